"""``hypothesis``: schedules as a Hypothesis strategy.

A schedule is a list of integers that stays valid under any cut, so that
Hypothesis can shrink it freely: step i runs ``enabled[c[i] % len(enabled)]``
(enabled threads in increasing id order), and past the end of the list the
default rule applies — keep running the current thread, then the lowest id.
Shrinking a list towards fewer and smaller integers is then shrinking towards
fewer forced steps and fewer preemptions (all zeros: run thread 0 to the end,
then thread 1 ...).

    from hypothesis import given
    from stress.strategies import schedules, run_schedule

    @given(schedules())
    def test_queue(schedule):
        ex = ...
        run_schedule(ex, schedule)
        assert not ex.violations()
"""

from __future__ import annotations

from typing import Sequence

import hypothesis
from hypothesis import strategies as st

from .base import BasePolicy, default_choice, enabled_threads


def schedules(*, min_size: int = 0, max_size: int = 400, max_value: int = 255) -> st.SearchStrategy[list[int]]:
    """Lists of integers read as schedules (see the module docstring)."""
    if not 0 <= min_size <= max_size:
        raise hypothesis.errors.InvalidArgument(
            f"need 0 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}")
    if max_value < 1:
        raise hypothesis.errors.InvalidArgument(f"max_value must be at least 1, got {max_value}")
    return st.lists(st.integers(0, max_value), min_size=min_size, max_size=max_size)


class HypothesisSchedulePolicy(BasePolicy):
    """Runs one drawn schedule under the modulo rule."""

    name = "hypothesis"

    def __init__(self, schedule: Sequence[int]) -> None:
        self.schedule = list(schedule)
        self._current: int | None = None

    def start(self, ex, seed: int) -> None:
        self._current = None

    def choose(self, mask: int, step: int) -> int:
        if step < len(self.schedule):
            enabled = enabled_threads(mask)
            tid = enabled[self.schedule[step] % len(enabled)]
        else:
            tid = default_choice(mask, self._current)
        self._current = tid
        return tid

    def __repr__(self) -> str:
        return f"HypothesisSchedulePolicy({self.schedule!r})"


def run_schedule(ex, schedule: Sequence[int], *, masks: list[int] | None = None) -> list[int]:
    """Run ex under a drawn schedule; return the thread choices made."""
    from .base import run_policy
    return run_policy(ex, HypothesisSchedulePolicy(schedule), 0, masks=masks)
