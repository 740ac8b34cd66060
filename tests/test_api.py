"""The small public API: the docstring example of stress.strategies works, and
explore() hands back a failure with a token that replays."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import InvalidArgument

from stress import Target, check_execution, explore
from stress.strategies import programs, run_schedule, schedules
from stress.token import decode


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs("msqueue", threads=2, max_operations=3), schedules())
def test_hazard_queue_stays_clean_under_drawn_programs_and_schedules(progs, schedule):
    ex = Target("msqueue", "hazard", progs, initial=(1,), options=(("hp_threshold", 1),)).execution()
    run_schedule(ex, schedule)
    assert check_execution(ex).ok


def test_programs_strategy_draws_the_family_operations():
    seen = set()

    @settings(max_examples=30, database=None)
    @given(programs("msqueue", threads=3, max_operations=2))
    def collect(progs):
        assert len(progs) == 3 and all(1 <= len(p) <= 2 for p in progs)
        seen.update(op for p in progs for op, _ in p)

    collect()
    assert seen == {"enqueue", "dequeue"}


def test_programs_strategy_rejects_bad_arguments():
    with pytest.raises(InvalidArgument, match="unknown structure"):
        programs("nosuch")
    with pytest.raises(InvalidArgument, match="threads"):
        programs(threads=0)


def test_explore_returns_a_failure_whose_token_replays():
    target = Target("msqueue", "naive", (((("dequeue", None),)), (("dequeue", None), ("enqueue", 2), ("dequeue", None))),
                    initial=(1,))
    result = explore(target, "pct", seed=1, executions=2000)
    failure = result.reported
    assert failure is not None and "aba" in failure.result.kinds
    again = decode(failure.token)
    ex = again.target.execution()
    ex.run(again.choices)
    assert "aba" in check_execution(ex).kinds
