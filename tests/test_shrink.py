"""Shrinking: failures from every policy come back with no more preemptions
than exhaustive's minimum + 1, keep their violation kind, lose the
operations and threads that play no part, and respect the budget."""

from __future__ import annotations

import pytest

from stress.search import explore, run_failure
from stress.story import story_target
from stress.shrink import shrink

ABA_HARM = {"aba", "use-after-free"}


@pytest.fixture(scope="module")
def minimal_preemptions():
    result = explore(story_target("classic-aba", "naive"), "exhaustive", executions=500, shrink=False)
    return result.failure.preemptions


def test_exhaustive_minimum_is_small(minimal_preemptions):
    assert minimal_preemptions <= 3
    assert minimal_preemptions == 1   # T0 paused before its CAS; T1 runs; T0 resumes


@pytest.mark.parametrize("scheduler,executions", [
    ("random", 3000), ("pct", 200), ("urw", 3000), ("hypothesis", 300),
])
@pytest.mark.parametrize("threads", [2, 3])
def test_shrunk_failures_have_at_most_the_minimum_plus_one_preemptions(
        scheduler, executions, threads, minimal_preemptions):
    result = explore(story_target("classic-aba", "naive", threads=threads), scheduler, seed=0,
                     executions=executions)
    found, shrunk = result.failure, result.shrunk
    assert found is not None and shrunk is not None
    after = shrunk.failure
    assert after.kind == found.kind                          # same kind kept
    assert after.preemptions <= minimal_preemptions + 1
    assert shrunk.after["preemptions"] <= shrunk.before["preemptions"]
    assert shrunk.after["steps"] <= shrunk.before["steps"] or \
        shrunk.after["preemptions"] < shrunk.before["preemptions"]
    assert after.target.operations() == 4                    # T0's dequeue, T1's three ops
    # The shrunk failure's token replays to the same kind.
    replayed = run_failure(after.target, after.choices)
    assert after.kind in replayed.result.kinds


def test_shrinking_drops_the_thread_that_plays_no_part():
    result = explore(story_target("classic-aba", "naive", threads=3), "random", seed=0, executions=3000)
    assert result.shrunk.before["operations"] == 7
    assert result.shrunk.after["operations"] == 4
    assert len(result.shrunk.failure.target.programs) == 2
    assert "operations 7 → 4" in result.shrunk.line()


def test_shrinking_removes_preemptions_random_added():
    result = explore(story_target("classic-aba", "naive"), "random", seed=0, executions=1000)
    assert result.shrunk.before["preemptions"] > 3
    assert result.shrunk.after["preemptions"] == 1


def test_shrinking_respects_its_budget():
    result = explore(story_target("classic-aba", "naive", threads=3), "random", seed=0,
                     executions=3000, shrink=False)
    small = shrink(result.failure, max_attempts=5, seconds=10)
    assert small.attempts <= 5 and small.exhausted_budget
    assert small.failure.kind == result.failure.kind       # still a failure of the same kind
    assert "budget ran out" in small.line()


def test_shrinking_a_minimal_failure_changes_nothing():
    result = explore(story_target("classic-aba", "naive"), "exhaustive", executions=500)
    assert result.shrunk.before == result.shrunk.after
