"""The scheduler protocol, the shared PRNG, and the loop that runs a policy.

A *policy* decides, at each step of an execution, which enabled thread runs
next. It is told when an execution starts (``start(ex, seed)``), then asked
``choose(enabled_mask, step) -> tid`` until the execution ends, then told it
ended (``finish(ex, choices)``). Bit i of ``enabled_mask`` is set when thread
i may run; ``step`` counts the choices made so far. That is the whole
protocol: one small class per policy, one file each (pytest-xdist / shuttle
style), and ``run_policy`` is the only loop that drives them.

The PRNG is splitmix64 (Steele, Lea & Flood 2014), seeded with the
execution's seed, and ``below(n)`` is Lemire's multiply-shift ``(x*n) >> 64``.
native/engine/search.c implements the same two functions, so the native fast path of
``random`` and ``pct`` makes identical choices for the same seed.

An execution's seed identifies it: ``lfstress explore --seed S`` runs seeds
S, S+1, S+2 ...; the seed printed beside a failure reproduces that one
execution (``lfstress replay --seed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Execution

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    """splitmix64: a 64-bit state, one output per call (mirrors search.c)."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = z = (self.state + GOLDEN) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """Uniform in [0, n): one draw, multiply-shift (no rejection)."""
        return (self.next() * n) >> 64


def enabled_threads(mask: int) -> list[int]:
    """Thread ids of the set bits, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def default_choice(mask: int, current: int | None) -> int:
    """The rule when a schedule says nothing more: keep running the current
    thread while it is enabled, then the lowest enabled id."""
    if current is not None and mask >> current & 1:
        return current
    return lowest(mask)


def count_preemptions(choices: Sequence[int], masks: Sequence[int]) -> int:
    """Context switches away from a thread that could have gone on
    (``masks[i]``: the enabled mask when choice i was made)."""
    n = 0
    for i in range(1, len(choices)):
        prev = choices[i - 1]
        if choices[i] != prev and masks[i] >> prev & 1:
            n += 1
    return n


class Policy(Protocol):
    """What every scheduling policy implements."""

    name: str

    def start(self, ex: "Execution", seed: int) -> None:
        """A new execution of ex is about to run, seeded with seed."""

    def choose(self, mask: int, step: int) -> int:
        """The thread to run at this step (its bit is set in mask)."""

    def finish(self, ex: "Execution", choices: list[int]) -> None:
        """The execution ended after these choices (optional to act on)."""


class BasePolicy:
    """Convenience base: does nothing on start/finish."""

    name = "base"

    def start(self, ex: "Execution", seed: int) -> None:  # pragma: no cover - trivial
        pass

    def finish(self, ex: "Execution", choices: list[int]) -> None:
        pass

    def describe(self) -> dict:
        return {"scheduler": self.name}


def run_policy(ex: "Execution", policy: Policy, seed: int, *, masks: list[int] | None = None) -> list[int]:
    """Run one whole execution of ex under policy; return its choices.
    When ``masks`` is a list, the enabled mask before each choice is appended."""
    policy.start(ex, seed)
    step = ex.stepper()
    choose = policy.choose
    choices: list[int] = []
    mask = ex.start()
    while mask > 0:
        tid = choose(mask, len(choices))
        if masks is not None:
            masks.append(mask)
        choices.append(tid)
        mask = step(tid)
    if mask < 0:
        from ..errors import EngineError
        raise EngineError(f"{policy.name} chose thread {choices[-1]}, which was not enabled")
    policy.finish(ex, choices)
    return choices


def run_choices(ex: "Execution", choices: Sequence[int], *, masks: list[int] | None = None,
                lenient: bool = False) -> list[int]:
    """Run a recorded choice sequence, then finish with the default rule.
    Returns the choices actually made. Strict (the default): a choice naming a
    thread that is not enabled raises ReplayDivergence. Lenient (used while
    shrinking): such a choice is skipped."""
    step = ex.stepper()
    made: list[int] = []
    mask = ex.start()
    current = None
    for i, tid in enumerate(choices):
        if mask <= 0:
            break
        if not (0 <= tid < 64 and mask >> tid & 1):
            if lenient:
                continue
            raise ReplayDivergence(i, f"step {i} chooses T{tid}, but only "
                                      + ", ".join(f"T{t}" for t in enabled_threads(mask))
                                      + " can run")
        if masks is not None:
            masks.append(mask)
        made.append(tid)
        mask = step(tid)
        current = tid
    while mask > 0:
        tid = default_choice(mask, current)
        if masks is not None:
            masks.append(mask)
        made.append(tid)
        mask = step(tid)
        current = tid
    return made


class ReplayDivergence(Exception):
    """A recorded schedule no longer fits the execution (at ``step``)."""

    def __init__(self, step: int, message: str) -> None:
        super().__init__(message)
        self.step = step


def solo_profile(ex: "Execution") -> list[int]:
    """Steps each thread takes when the threads run one after the other
    (thread 0 to the end, then thread 1, ...): no contention, no retries.
    PCT's k and URW's remaining-step estimates start from it."""
    per_thread = [0] * ex.nthreads
    for tid in run_choices(ex, ()):
        per_thread[tid] += 1
    return per_thread
