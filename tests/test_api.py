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


def test_every_public_name_is_importable_from_stress():
    import stress
    for name in stress.__all__:
        assert getattr(stress, name) is not None, name
    from stress import CheckResult, Execution, ExploreResult, Failure, draw_queue, strategies  # noqa: F401
    from stress.checks import CheckResult as checks_result
    from stress.engine import Execution as engine_execution
    assert CheckResult is checks_result and Execution is engine_execution
    with pytest.raises(AttributeError, match="no_such_name"):
        stress.no_such_name  # noqa: B018


def test_the_readme_python_examples_run(capsys):
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)
        imported = set(re.findall(r"from (\S+) import", block))
        assert imported <= {"hypothesis", "stress", "stress.strategies"}, imported   # the public API only
    assert "#" in capsys.readouterr().out       # the first example draws the queue


def test_the_pytest_plugin_is_light_and_keeps_its_settings_in_the_config_stash(pytester):
    # In a subprocess: an in-process pytest session would re-install faulthandler's
    # signal handlers over the engine's crash guard in this process.
    pytester.makepyfile(test_light="""
        import sys

        def test_nothing_of_lfstress_is_loaded_before_a_scenario_is_collected():
            loaded = sorted(m for m in sys.modules if m.startswith("stress"))
            assert loaded == ["stress", "stress._version", "stress.errors", "stress.pytest_plugin"], loaded

        def test_settings_are_in_the_stash(pytestconfig):
            from stress.pytest_plugin import SETTINGS
            settings = pytestconfig.stash[SETTINGS]
            assert settings["seed"] == 5 and settings["executions"] is None
            assert not hasattr(pytestconfig, "_lfstress")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "--stress-seed=5")
    result.assert_outcomes(passed=2)
