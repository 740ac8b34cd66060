"""The schedule of one execution: its choices, in order, as typed steps.

Today every choice is a ``ThreadChoice``: which enabled thread runs the next
shared-memory step. A weaker memory model adds other kinds of choice at the
same place in the sequence — which store a load reads from, when a buffered
store is flushed — as new step types here; the schedulers, shrinking and the
replay token then carry them without changing shape.

Tokens record thread choices as a run-length list of thread ids (format
``lfs1``, stress/token.py); ``thread_ids()`` is that list. A schedule with
another kind of step needs a token format that can say so: ``thread_ids()``
refuses rather than drop a step silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union


@dataclass(frozen=True)
class ThreadChoice:
    """Run one step of thread ``tid``."""

    tid: int


Step = Union[ThreadChoice]   # the kinds of choice a schedule can hold


class Schedule(tuple):
    """An execution's choices: an immutable sequence of ``Step``s."""

    __slots__ = ()

    @classmethod
    def of_threads(cls, tids: Iterable[int]) -> "Schedule":
        """The schedule that runs these threads, one step each, in order."""
        return cls(ThreadChoice(t) for t in tids)

    def thread_ids(self) -> list[int]:
        """The thread choices, as a replay token records them."""
        out = []
        for step in self:
            if not isinstance(step, ThreadChoice):
                raise ValueError(f"a {type(step).__name__} step has no thread-id form")
            out.append(step.tid)
        return out

    def __repr__(self) -> str:
        if all(isinstance(step, ThreadChoice) for step in self):
            return f"Schedule.of_threads({self.thread_ids()!r})"
        return f"Schedule({tuple(self)!r})"
