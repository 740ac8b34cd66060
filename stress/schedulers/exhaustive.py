"""``exhaustive``: every interleaving, fewest preemptions first.

Stateless model checking in the style of CHESS (Musuvathi & Qadeer, PLDI
2007: iterative context bounding). A *preemption* is a switch away from a
thread that could have gone on; most concurrency bugs need very few of them.
Level b runs every execution with exactly b preemptions, b = 0, 1, 2 ...,
so the first failure found has the fewest preemptions that can show it.

Each execution follows a *schedule*: a few forced choices ("at step i, run
thread t"), the default rule (keep running the current thread, then the
lowest id) everywhere else. Executions are deterministic, so those few
deviations stand for the whole prefix they lead to. When an execution ends,
every other thread that was enabled at a step past its last deviation is a
child schedule: with no more preemptions than the level, it is run depth
first (children in step order, then thread order, each child's own children
before its next sibling); with one more, it waits for the next level.

Memory: the depth-first walk keeps one *choice point* per execution on the
path from the level's root to the current schedule — its deviations, its
choices and enabled masks, and a cursor on its next child — so it is
proportional to the depth of the executions times the deviations on the
path, never to the number of executions run. Schedules waiting for the next
level are appended to a temporary file, read back in the same order as the
level's roots, so the search can run for hours in flat memory.

Every schedule is the extension of exactly one parent, so no execution runs
twice, and when the path, the level's roots and the next level are all
empty the whole space has been explored — ``fully_explored`` says so. When a
budget stops the search earlier, what it has established is ``verified``:
the highest preemption count whose every schedule ran (levels are finished
in order), and ``level_executions`` says how far the next level got.

No partial-order reduction yet: interleavings that only reorder independent
steps are all run (the spaces of the scenarios here are small).
"""

from __future__ import annotations

import struct
import tempfile
from array import array
from typing import BinaryIO, Iterator

from .base import BasePolicy, default_choice

Deviations = tuple[tuple[int, int], ...]  # ((step, thread), ...), steps increasing

_COUNT = struct.Struct("<I")
_DEVIATION = struct.Struct("<IB")


class _ChoicePoint:
    """An execution on the depth-first path and the cursor on its children."""

    __slots__ = ("deviations", "preemptions", "choices", "masks", "step", "others")

    def __init__(self, deviations: Deviations, preemptions: int, start: int,
                 choices: list[int], masks: array) -> None:
        self.deviations = deviations
        self.preemptions = preemptions
        self.choices = array("B", choices)
        self.masks = masks
        self.step = start - 1          # the step whose other threads are being tried
        self.others = 0                # those not tried yet, as a mask

    def children(self, bound: int, *, over: bool) -> Iterator[tuple[Deviations, int]]:
        """From the cursor on, the children with at most ``bound`` preemptions
        (``over``: those with more), in step order then thread order."""
        choices, masks = self.choices, self.masks
        while True:
            while self.others:
                low = self.others & -self.others
                self.others ^= low
                t = low.bit_length() - 1
                i = self.step
                prev = choices[i - 1] if i else None
                mask = masks[i]
                p = self.preemptions + (1 if prev is not None and t != prev and mask >> prev & 1 else 0)
                if (p > bound) == over:
                    yield self.deviations + ((i, t),), p
            self.step += 1
            if self.step >= len(choices):
                return
            self.others = masks[self.step] & ~(1 << choices[self.step])


class _Frontier:
    """Schedules for the next level, in the order they were found, on disk."""

    def __init__(self) -> None:
        self._file: BinaryIO | None = None
        self.count = 0

    def append(self, deviations: Deviations) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="lfstress-frontier-")
        self._file.write(_COUNT.pack(len(deviations)))
        for step, tid in deviations:
            self._file.write(_DEVIATION.pack(step, tid))
        self.count += 1

    def __iter__(self) -> Iterator[Deviations]:
        if self._file is None:
            return
        f = self._file
        f.seek(0)
        try:
            for _ in range(self.count):
                (n,) = _COUNT.unpack(f.read(_COUNT.size))
                yield tuple(_DEVIATION.unpack(f.read(_DEVIATION.size)) for _ in range(n))
        finally:
            f.close()
            self._file = None


class ExhaustivePolicy(BasePolicy):
    name = "exhaustive"

    def __init__(self, *, max_preemptions: int | None = None) -> None:
        self.max_preemptions = max_preemptions
        self.bound = 0
        self._path: list[_ChoicePoint] = []
        self._roots: Iterator[Deviations] = iter(())     # this level's roots still to run
        self._next_level = _Frontier()
        self._pending: tuple[Deviations, int] | None = ((), 0)  # the next schedule of this level
        self._deviations: Deviations = ()
        self._preemptions = 0
        self._forced: dict[int, int] = {}
        self._masks = array("Q")
        self._current: int | None = None
        self.executions = 0
        self.level_executions = 0     # executions run at the current level (``bound``)

    @property
    def exhausted(self) -> bool:
        """No schedule left within max_preemptions (all of them, if None)."""
        if self._pending is not None:
            return False
        if not self._next_level.count:
            return True
        return self.max_preemptions is not None and self.bound >= self.max_preemptions

    @property
    def fully_explored(self) -> bool:
        """Every interleaving of the execution was run (no bound cut any off)."""
        return self._pending is None and not self._next_level.count

    @property
    def verified(self) -> int | None:
        """The highest preemption count up to which every schedule ran (None:
        not even the schedules without a preemption were all run)."""
        done = self.bound if self._pending is None else self.bound - 1
        return done if done >= 0 else None

    def has_next(self) -> bool:
        return not self.exhausted

    def start(self, ex, seed: int) -> None:
        if self._pending is None:
            if self.exhausted:
                raise StopIteration("the exhaustive search has no schedule left")
            self.bound += 1
            self.level_executions = 0
            self._roots, self._next_level = iter(self._next_level), _Frontier()
            self._pending = self._next_root()
        self._deviations, self._preemptions = self._pending
        self._forced = dict(self._deviations)
        self._masks = array("Q")
        self._current = None

    def choose(self, mask: int, step: int) -> int:
        self._masks.append(mask)
        tid = self._forced.get(step)
        if tid is None:
            tid = default_choice(mask, self._current)
        self._current = tid
        return tid

    def finish(self, ex, choices: list[int]) -> None:
        self.executions += 1
        self.level_executions += 1
        start = self._deviations[-1][0] + 1 if self._deviations else 0
        point = _ChoicePoint(self._deviations, self._preemptions, start, choices, self._masks)
        for deviations, _ in point.children(self.bound, over=True):
            self._next_level.append(deviations)
        point.step, point.others = start - 1, 0   # rewind: now the children of this level
        self._path.append(point)
        self._pending = self._next_on_path() or self._next_root()

    def _next_on_path(self) -> tuple[Deviations, int] | None:
        while self._path:
            child = next(self._path[-1].children(self.bound, over=False), None)
            if child is not None:
                return child
            self._path.pop()
        return None

    def _next_root(self) -> tuple[Deviations, int] | None:
        deviations = next(self._roots, None)
        return None if deviations is None else (deviations, self.bound)

    def describe(self) -> dict:
        return {"scheduler": self.name, "bound": self.bound, "fully_explored": self.fully_explored,
                "verified": self.verified, "max_preemptions": self.max_preemptions}

    def __repr__(self) -> str:
        return f"ExhaustivePolicy(max_preemptions={self.max_preemptions})"
