"""``exhaustive``: every interleaving, fewest preemptions first.

Stateless model checking in the style of CHESS (Musuvathi & Qadeer, PLDI
2007: iterative context bounding). A *preemption* is a switch away from a
thread that could have gone on; most concurrency bugs need very few of them.
Level b runs every execution with exactly b preemptions, b = 0, 1, 2 ...,
so the first failure found has the fewest preemptions that can show it.

Each execution follows a *prefix* of forced choices, then the default rule
(keep running the current thread, then the lowest id). When it ends, every
other thread that was enabled at a step past the prefix is a new prefix to
try: with no more preemptions than the level it goes on the stack (depth
first), with one more it waits for the next level. Every schedule is the
extension of exactly one prefix, so no execution runs twice, and when both
the stack and the next level are empty the whole space has been explored —
``fully_explored`` says so. When a budget stops the search earlier, what it
has established is ``verified``: the highest preemption count whose every
schedule ran (levels are finished in order), and ``level_executions`` says
how far the next level got.

No partial-order reduction yet: interleavings that only reorder independent
steps are all run (the spaces of the scenarios here are small).
"""

from __future__ import annotations

from .base import BasePolicy, default_choice


class ExhaustivePolicy(BasePolicy):
    name = "exhaustive"

    def __init__(self, *, max_preemptions: int | None = None) -> None:
        self.max_preemptions = max_preemptions
        self.bound = 0
        self._stack: list[tuple[tuple[int, ...], int]] = [((), 0)]   # (prefix, its preemptions)
        self._next_level: list[tuple[tuple[int, ...], int]] = []
        self._prefix: tuple[int, ...] = ()
        self._prefix_preemptions = 0
        self._masks: list[int] = []
        self._current: int | None = None
        self.executions = 0
        self.level_executions = 0     # executions run at the current level (``bound``)

    @property
    def exhausted(self) -> bool:
        """No schedule left within max_preemptions (all of them, if None)."""
        if self._stack:
            return False
        if not self._next_level:
            return True
        return self.max_preemptions is not None and self.bound >= self.max_preemptions

    @property
    def fully_explored(self) -> bool:
        """Every interleaving of the execution was run (no bound cut any off)."""
        return not self._stack and not self._next_level

    @property
    def verified(self) -> int | None:
        """The highest preemption count up to which every schedule ran (None:
        not even the schedules without a preemption were all run)."""
        done = self.bound if not self._stack else self.bound - 1
        return done if done >= 0 else None

    def has_next(self) -> bool:
        return not self.exhausted

    def start(self, ex, seed: int) -> None:
        if not self._stack:
            if self.exhausted:
                raise StopIteration("the exhaustive search has no schedule left")
            self.bound += 1
            self.level_executions = 0
            self._stack = self._next_level[::-1]
            self._next_level = []
        self._prefix, self._prefix_preemptions = self._stack.pop()
        self._masks = []
        self._current = None

    def choose(self, mask: int, step: int) -> int:
        self._masks.append(mask)
        if step < len(self._prefix):
            tid = self._prefix[step]
        else:
            tid = default_choice(mask, self._current)
        self._current = tid
        return tid

    def finish(self, ex, choices: list[int]) -> None:
        self.executions += 1
        self.level_executions += 1
        masks = self._masks
        start = len(self._prefix)
        preemptions = self._prefix_preemptions
        new: list[tuple[tuple[int, ...], int]] = []
        for i in range(start, len(choices)):
            mask = masks[i]
            prev = choices[i - 1] if i else None
            m = mask & ~(1 << choices[i])
            while m:
                low = m & -m
                t = low.bit_length() - 1
                m ^= low
                p = preemptions + (1 if prev is not None and t != prev and mask >> prev & 1 else 0)
                item = (tuple(choices[:i]) + (t,), p)
                (new if p <= self.bound else self._next_level).append(item)
            # choices[i] itself: the default rule, no preemption added past the prefix
        # Depth first, earliest branch point last so it is explored first.
        self._stack.extend(reversed(new))

    def describe(self) -> dict:
        return {"scheduler": self.name, "bound": self.bound, "fully_explored": self.fully_explored,
                "verified": self.verified, "max_preemptions": self.max_preemptions}

    def __repr__(self) -> str:
        return f"ExhaustivePolicy(max_preemptions={self.max_preemptions})"
