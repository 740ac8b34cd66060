"""Hypothesis strategies for tests users write themselves.

    from hypothesis import given
    from stress import Target, check_execution
    from stress.strategies import programs, schedules, run_schedule

    @given(programs("msqueue", threads=2, max_operations=3), schedules())
    def test_hazard_queue(progs, schedule):
        ex = Target("msqueue", "hazard", progs, options=(("hp_threshold", 1),)).execution()
        run_schedule(ex, schedule)
        assert check_execution(ex).ok

Both shrink well: programs towards fewer operations and dequeues (the
"remove" operation comes first in the one_of), schedules towards fewer forced
steps and fewer preemptions (see ``stress.schedulers.hypothesis_strategy``).
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from . import _native
from .schedulers.hypothesis_strategy import run_schedule as run_schedule  # noqa: F401
from .schedulers.hypothesis_strategy import schedules as schedules  # noqa: F401
from .structures import catalogue

Program = tuple[tuple[str, "int | None"], ...]


def insert_remove_ops(family: str) -> tuple[str, str]:
    """The family's insert and remove operations, as its structures declare
    them (``StructureInfo.insert_op`` / ``remove_op``): enqueue/dequeue,
    push/pop."""
    infos = [s for s in catalogue().values() if s.family == family]
    if not infos:
        families = sorted({s.family for s in catalogue().values()})
        raise InvalidArgument(f"unknown structure {family!r} (allowed: {', '.join(families)})")
    put, take = infos[0].insert_op, infos[0].remove_op
    if put is None or take is None:
        raise InvalidArgument(f"{family} has no insert/remove pair of operations to draw programs from")
    return put, take


def programs(family: str = "msqueue", *, threads: int = 2, min_operations: int = 1,
             max_operations: int = 3, values: tuple[int, int] = (1, 99)) -> st.SearchStrategy[tuple[Program, ...]]:
    """One program per thread, each a list of inserts (of values in
    ``values``) and removes."""
    max_threads = _native.limit("LFS_MAX_THREADS")
    if not 1 <= threads <= max_threads:
        raise InvalidArgument(f"threads must be between 1 and {max_threads}, got {threads}")
    if not 0 <= min_operations <= max_operations:
        raise InvalidArgument(f"need 0 <= min_operations <= max_operations, got {min_operations}, {max_operations}")
    lo, hi = values
    if lo > hi:
        raise InvalidArgument(f"values must be (lowest, highest), got {values!r}")
    put, take = insert_remove_ops(family)
    operation = st.one_of(st.just((take, None)), st.integers(lo, hi).map(lambda v: (put, v)))
    program = st.lists(operation, min_size=min_operations, max_size=max_operations).map(tuple)
    return st.lists(program, min_size=threads, max_size=threads).map(tuple)
