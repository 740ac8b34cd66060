"""Replaying a token (or a seed) and telling whether the code under test is
deterministic.

The stepped engine makes an execution a pure function of its schedule, so a
replay must give the trace recorded in the token, byte for byte. When it does
not, the code under test depends on something outside the execution (a clock,
a global, an unseeded RNG, uninitialised memory): ``replay`` runs the schedule
once more in this process and shows the first step where the two runs differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import CheckResult, check_execution
from .errors import LfstressError
from .schedulers import ReplayDivergence, run_choices
from .token import Target, Token, encode, trace_hash


class NotDeterministic(LfstressError):
    """Replaying a schedule did not give the recorded trace."""

    def __init__(self, message: str, step: int | None) -> None:
        super().__init__(message)
        self.step = step


@dataclass
class Replayed:
    target: Target
    choices: list[int]
    ex: object                  # the Execution, ended
    result: CheckResult
    trace: str
    token: str
    scenario_note: str | None = None


def first_difference(a: str, b: str) -> tuple[int, str, str] | None:
    """(step, line of a, line of b) at the first differing trace line."""
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "(trace ends)"
        y = lb[i] if i < len(lb) else "(trace ends)"
        if x != y:
            line = x if i < len(la) else y
            try:
                step = int(line.split()[0])
            except (ValueError, IndexError):
                step = None
            return step, x, y
    return None


def scenario_note(target: Target) -> str | None:
    """Say so when the scenario the token came from has changed since (or is unknown here)."""
    if not target.scenario or not target.scenario_hash:
        return None
    import re

    from .story import story_target
    from .story import STORIES

    m = re.fullmatch(r"(.+)-(\d+)t", target.scenario)
    name, threads = (m.group(1), int(m.group(2))) if m else (target.scenario, None)
    if name in STORIES:
        current = story_target(name, target.variant, threads=threads).scenario_hash
    else:
        from .scenario import find_scenario, load
        path = find_scenario(target.scenario)
        if path is None:
            return f"note: scenario {target.scenario!r} is not known here; replaying the programs in the token"
        current = load(path).content_hash
    if current != target.scenario_hash:
        return (f"note: scenario {target.scenario!r} changed since this token was made "
                f"(hash {target.scenario_hash}, now {current}); replaying the programs recorded in the token")
    return None


def load_user_structures(target: Target) -> None:
    """A token for a structure from a user's C file names its scenario: load
    that (it builds the file, or finds the build cached) so the structure is
    known. Built-in structures need nothing."""
    from .structures import catalogue
    if target.structure in catalogue() or not target.scenario:
        return
    from .errors import UsageError
    from .scenario import find_scenario, load
    path = find_scenario(target.scenario)
    if path is None:
        raise UsageError(f"{target.structure} is not a built-in structure, and the scenario that builds it "
                         f"({target.scenario}) is not found from here: replay in the directory the "
                         "token was made in")
    load(path)


def replay(token: Token) -> Replayed:
    """Re-run a decoded token; raise NotDeterministic when the trace differs."""
    target = token.target
    load_user_structures(target)
    ex = target.execution()
    try:
        made = run_choices(ex, token.choices)
    except ReplayDivergence as exc:
        raise NotDeterministic(
            f"the code under test is not deterministic: the recorded schedule no longer fits at "
            f"step {exc.step} ({exc})", exc.step) from None
    trace = ex.trace_text()
    # Always a second run: a structure that reads a global or a clock may
    # still match the recorded hash on its first run in a fresh process.
    again = target.execution()
    run_choices(again, token.choices)
    diff = first_difference(trace, again.trace_text())
    if diff is not None:
        step, a, b = diff
        raise NotDeterministic(
            "the code under test is not deterministic: the same schedule gave two different "
            f"traces in this process, first at step {step}:\n"
            f"  run 1: {a.strip()}\n  run 2: {b.strip()}\n"
            "(it reads something outside the execution: a clock, a global, an unseeded RNG?)", step)
    if token.trace_hash is not None and trace_hash(trace) != token.trace_hash:
        raise NotDeterministic(
            "the code under test is not deterministic: the trace differs from the one recorded in the "
            f"token (hash {token.trace_hash}, {token.events} events; now {trace_hash(trace)}, "
            f"{trace.count(chr(10))} events) although it repeats in this process — it depends on "
            "the process (addresses, environment), or the structure changed since the token was made", None)
    result = check_execution(ex)
    new_token = encode(target, made, trace_hash=trace_hash(trace), events=trace.count("\n"))
    return Replayed(target, made, ex, result, trace, new_token, scenario_note(target))


def replay_seed(target: Target, scheduler: str, seed: int, *, depth: int = 3, k: int | None = None) -> Replayed:
    """Re-run execution `seed` of a seeded policy (random, pct, urw)."""
    from .errors import UsageError
    from .schedulers import make_policy, run_policy
    if scheduler not in ("random", "pct", "urw"):
        raise UsageError(f"a seed names one execution of random, pct or urw; {scheduler} "
                         "failures are replayed by their token")
    ex = target.execution()
    policy = make_policy(scheduler, depth=depth, k=k)
    made = run_policy(ex, policy, seed)
    trace = ex.trace_text()
    token = encode(target, made, trace_hash=trace_hash(trace), events=trace.count("\n"))
    return Replayed(target, made, ex, check_execution(ex), trace, token)
