"""Schedulers: each policy finds the classic MS96 ABA on the naive queue
within an executions budget, and the protected variants stay clean under the
same budget; the native fast path chooses exactly as Python does; parallel
exploration gives the serial result; the PRNG is the one search.c uses."""

from __future__ import annotations

import sys

import pytest

from stress import _native
from stress.schedulers import SchedulerSpec
from stress.search import explore
from stress.search.backends import native_params
from stress.story import story_target
from stress.schedulers import (
    ExhaustivePolicy,
    PCTPolicy,
    RandomPolicy,
    SplitMix64,
    count_preemptions,
    run_policy,
)

# The harmful access the classic ABA ends in: the head CAS against a
# reincarnated node ("aba"), or — when the dequeuer re-read head after the
# reuse — linking the freed next node into head ("use-after-free").
ABA_HARM = {"aba", "use-after-free"}
PROTECTED = ["tagged", "hazard", "epoch"]

# (scheduler, seed, executions budget). Seeds fix the executions, so these
# are deterministic; the budgets leave room over where each finds the bug.
BUDGETS = [
    ("random", 0, 1_000),      # finds it at execution 439
    ("pct", 0, 200),           # at 6
    ("urw", 0, 3_000),         # at 2089
    ("exhaustive", 0, 200),    # at 5, with 1 preemption
    ("hypothesis", 0, 300),    # at 88, then Hypothesis shrinks it
]


def kinds(result):
    return set(result.failure.result.kinds) if result.failure else set()


@pytest.mark.parametrize("scheduler,seed,budget", BUDGETS, ids=[b[0] for b in BUDGETS])
def test_each_policy_finds_the_classic_aba_on_naive(scheduler, seed, budget):
    result = explore(story_target("classic-aba", "naive"), scheduler, seed=seed, executions=budget,
                     shrink=False)
    assert result.failure is not None, result.stats.to_json()
    assert kinds(result) & ABA_HARM, kinds(result)
    assert result.stats.first_violation_execution <= budget
    assert result.stats.violating == 1 and result.stats.executions <= budget


@pytest.mark.parametrize("scheduler,seed,budget", BUDGETS, ids=[b[0] for b in BUDGETS])
@pytest.mark.parametrize("variant", PROTECTED)
def test_protected_variants_stay_clean_under_the_same_budget(variant, scheduler, seed, budget):
    if scheduler in ("urw", "random"):
        budget //= 3  # same policy and seeds; a third of the budget keeps the suite fast
    result = explore(story_target("classic-aba", variant), scheduler, seed=seed, executions=budget,
                     shrink=False)
    assert result.failure is None, result.failure and result.failure.result.violations[0].message
    assert result.stats.executions >= 1


@pytest.mark.parametrize("scheduler", ["random", "pct", "urw", "exhaustive", "hypothesis"])
def test_three_threads_found_too(scheduler):
    result = explore(story_target("classic-aba", "naive", threads=3), scheduler, seed=0,
                     executions=3_000, shrink=False)
    assert kinds(result) & ABA_HARM


def test_exhaustive_finds_the_fewest_preemptions_first():
    result = explore(story_target("classic-aba", "naive"), "exhaustive", executions=500, shrink=False)
    assert result.failure.preemptions == 1
    assert result.stats.bound == 1 and not result.stats.fully_explored


def test_exhaustive_says_when_the_space_is_fully_explored():
    # T0: one dequeue, T1: one dequeue on a queue of one: a small space.
    from stress.target import Target
    target = Target("msqueue", "tagged", ((("dequeue", None),), (("dequeue", None),)), (1,))
    result = explore(target, "exhaustive", executions=100_000, shrink=False)
    assert result.failure is None
    assert result.stats.fully_explored is True
    # Every schedule ran once: distinct choice sequences, as many as executions.
    ex = target.execution()
    policy = ExhaustivePolicy()
    seen = set()
    while policy.has_next():
        seen.add(tuple(run_policy(ex, policy, 0)))
    assert len(seen) == policy.executions == result.stats.executions > 10


def test_exhaustive_cut_by_the_budget_says_which_bound_it_verified():
    target = story_target("classic-aba", "tagged")
    stats = explore(target, "exhaustive", executions=300, shrink=False).stats
    assert stats.verified == stats.bound - 1 and 0 < stats.level_executions < 300
    summary = stats.exhaustive_summary()
    assert summary == (f"verified up to {stats.verified} preemptions; the budget ran out after "
                       f"{stats.level_executions} executions with {stats.bound} preemptions")
    # The claim holds: every schedule with at most `verified` preemptions is
    # exactly the executions run before the last level started.
    policy = ExhaustivePolicy(max_preemptions=stats.verified)
    ex = target.execution()
    while policy.has_next():
        run_policy(ex, policy, 0)
    assert policy.executions == stats.executions - stats.level_executions


def test_exhaustive_wording_never_claims_more_than_it_ran(capsys):
    from stress.cli import main
    main(["explore", "--story", "classic-aba", "--variant", "tagged", "--scheduler", "exhaustive",
          "--budget", "300"])
    out = capsys.readouterr().out
    assert "whole space" not in out and "within the budget" not in out
    assert "no violation found: verified up to 2 preemptions; the budget ran out after" in out
    main(["explore", "--story", "classic-aba", "--variant", "tagged", "--scheduler", "exhaustive",
          "--max-preemptions", "1", "--budget", "5000"])
    assert "no violation found: verified up to 1 preemption, the bound asked for" in capsys.readouterr().out


def test_exhaustive_fully_explored_is_verified_to_its_deepest_level():
    from stress.target import Target
    target = Target("msqueue", "tagged", ((("dequeue", None),), (("dequeue", None),)), (1,))
    stats = explore(target, "exhaustive", executions=100_000, shrink=False).stats
    assert stats.fully_explored and stats.verified == stats.bound
    assert stats.exhaustive_summary().endswith("every interleaving was explored")
    failing = explore(story_target("classic-aba", "naive"), "exhaustive", executions=500, shrink=False).stats
    assert failing.verified == 0 and failing.exhaustive_summary() == (
        "verified up to 0 preemptions; a failure was found with 1 preemption")


def test_exhaustive_levels_are_exact_preemption_counts():
    from stress.target import Target
    target = Target("msqueue", "tagged", ((("dequeue", None),), (("enqueue", 5),)), (1,))
    ex = target.execution()
    policy = ExhaustivePolicy(max_preemptions=2)
    last = 0
    while policy.has_next():
        masks = []
        choices = run_policy(ex, policy, 0, masks=masks)
        p = count_preemptions(choices, masks)
        assert p == policy.bound and p >= last  # fewest preemptions first, never back
        last = p
    assert last == 2


def _exhaustive_digest(target, limit, max_preemptions=None):
    """Executions run, level reached, whole space run, and a digest of the
    sequence of choice sequences, for the first ``limit`` executions."""
    import hashlib

    ex = target.execution()
    policy = ExhaustivePolicy(max_preemptions=max_preemptions)
    h = hashlib.sha256()
    n = 0
    while policy.has_next() and n < limit:
        h.update(bytes(run_policy(ex, policy, n)) + b"\n")
        n += 1
    return n, policy.bound, policy.fully_explored, h.hexdigest()[:16]


def _tagged(*programs):
    from stress.target import Target
    return Target("msqueue", "tagged", programs, (1,))


# Recorded from the first implementation (a stack and a next level of whole
# prefixes): the depth-first walk over choice points must run the very same
# executions in the very same order.
@pytest.mark.parametrize("make, limit, max_preemptions, expected", [
    (lambda: story_target("classic-aba", "naive"), 3000, None, (3000, 4, False, "95a78fb5a8560c96")),
    (lambda: story_target("classic-aba", "hazard", threads=3), 3000, None, (3000, 2, False, "fc0cccccbaccbea8")),
    (lambda: _tagged((("dequeue", None),), (("enqueue", 5),)), 100_000, None, (3432, 12, True, "4d8669475211a3b2")),
    (lambda: _tagged((("dequeue", None),), (("dequeue", None),)), 100_000, 2, (80, 2, False, "0d40e0e83572f5a6")),
])
def test_exhaustive_runs_the_same_executions_in_the_same_order(make, limit, max_preemptions, expected):
    assert _exhaustive_digest(make(), limit, max_preemptions) == expected


def test_exhaustive_memory_does_not_grow_with_the_executions():
    import tracemalloc

    ex = story_target("classic-aba", "hazard", threads=3).execution()
    policy = ExhaustivePolicy()
    tracemalloc.start()
    try:
        sizes = []
        for target in (1000, 4000):
            while policy.executions < target:
                run_policy(ex, policy, 0)
            sizes.append(tracemalloc.get_traced_memory()[0])
            path = len(policy._path)
    finally:
        tracemalloc.stop()
    assert policy.bound >= 2 and path < 40
    assert sizes[1] - sizes[0] < 64 * 1024, sizes


def test_prng_is_splitmix64_and_matches_native():
    rng = SplitMix64(1234567)
    # Reference values of splitmix64 seeded with 1234567.
    assert [rng.next() for _ in range(3)] == [6457827717110365317, 3203168211198807973, 9817491932198370423]
    native = _native.stepped()
    state = native.ffi.new("uint64_t *", 2**64 - 5)
    py = SplitMix64(2**64 - 5)
    for n in (1, 2, 3, 7, 24, 1000, 2**31):
        assert native.lib.lfs_prng_below(state, n) == py.below(n)
        assert native.lib.lfs_prng_next(state) == py.next()


@pytest.mark.parametrize("scheduler", ["random", "pct"])
@pytest.mark.parametrize("threads", [2, 3])
def test_python_and_native_choose_identically_for_1000_seeds(scheduler, threads):
    ex = story_target("classic-aba", "naive", threads=threads).execution()
    if scheduler == "pct":
        policy = PCTPolicy(depth=3)
        policy.prepare(ex)
        spec = SchedulerSpec("pct", depth=3, k=policy.k)
    else:
        policy, spec = RandomPolicy(), SchedulerSpec("random")
    params = native_params(ex, spec)
    for seed in range(1000):
        assert run_policy(ex, policy, seed) == ex.native_choices(params, seed), seed


def test_native_search_counts_the_same_first_failure_as_python():
    target = story_target("classic-aba", "naive")
    py = explore(target, "pct", seed=3, executions=500, shrink=False)
    native = explore(target, "pct", seed=3, executions=500, native=True, shrink=False)
    assert native.failure.seed == py.failure.seed
    assert native.failure.choices == py.failure.choices
    assert native.stats.first_violation_execution == py.stats.first_violation_execution


def test_native_search_walks_past_violations_of_kinds_not_wanted():
    # The essay's story on tagged: most failing executions only read a freed
    # node (use-after-free, benign under type-stable memory); the ABA that
    # severs the queue comes later. Asked for aba, the native path must not
    # stop at the first use-after-free, and must agree with the Python path.
    target = story_target("essay", "tagged", options={"cleanup": 1})
    anything = explore(target, "pct", seed=0, executions=2_000, native=True, shrink=False)
    assert "aba" not in anything.failure.result.kinds
    for seed in range(0, 5_000_000, 1_000_003):
        py = explore(target, "pct", seed=seed, executions=2_000, shrink=False, kinds={"aba"})
        native = explore(target, "pct", seed=seed, executions=2_000, native=True, shrink=False, kinds={"aba"})
        assert "aba" in native.failure.result.kinds
        assert native.failure.seed == py.failure.seed
        assert native.stats.first_violation_execution == py.stats.first_violation_execution


def test_native_search_checks_candidates_in_full_for_kinds_it_cannot_see():
    # "severed" is seen by the full checks only: the native path stops at every
    # engine violation, has the full checks judge it, and searches on when they
    # say no (the first engine violation here is a use-after-free read alone).
    target = story_target("essay", "naive", options={"cleanup": 1})
    anything = explore(target, "pct", seed=0, executions=5_000, native=True, shrink=False)
    assert "severed" not in anything.failure.result.kinds
    severed = explore(target, "pct", seed=0, executions=5_000, native=True, shrink=False, kinds={"severed"})
    assert "severed" in severed.failure.result.kinds
    assert severed.failure.seed > anything.failure.seed
    assert severed.stats.violating == 1 and severed.stats.executions == severed.failure.seed + 1


def test_native_tagged_clean_over_many_executions():
    result = explore(story_target("classic-aba", "tagged"), "random", executions=50_000, native=True,
                     stop_at_first=False, shrink=False)
    assert result.stats.executions == 50_000 and result.stats.violating == 0


@pytest.mark.parametrize("native", [False, True])
def test_jobs_give_the_serial_result(native):
    target = story_target("classic-aba", "naive")
    budget = 3_000 if native else 600
    serial = explore(target, "random", seed=11, executions=budget, native=native, shrink=False)
    parallel = explore(target, "random", seed=11, executions=budget, native=native, jobs=2, shrink=False)
    assert serial.failure is not None
    assert parallel.failure.seed == serial.failure.seed
    assert parallel.failure.choices == serial.failure.choices
    a, b = serial.stats.to_json(), parallel.stats.to_json()
    for key in ("executions", "steps_min", "steps_max", "steps_avg", "violating", "first_violation_execution"):
        assert a[key] == b[key], key


def test_keep_going_counts_violating_executions_identically_in_parallel():
    target = story_target("classic-aba", "naive")
    serial = explore(target, "pct", seed=0, executions=400, stop_at_first=False, shrink=False)
    parallel = explore(target, "pct", seed=0, executions=400, stop_at_first=False, jobs=2, shrink=False)
    assert serial.stats.executions == parallel.stats.executions == 400
    assert serial.stats.violating == parallel.stats.violating > 5
    assert serial.stats.steps_total == parallel.stats.steps_total


def test_pct_reports_its_guarantee():
    result = explore(story_target("classic-aba", "naive"), "pct", executions=10, depth=2, shrink=False)
    k = result.scheduler.k
    assert result.stats.guarantee == pytest.approx(1 / (2 * k))


def test_hypothesis_strategy_rule():
    from hypothesis.errors import InvalidArgument

    from stress.schedulers.hypothesis_strategy import HypothesisSchedulePolicy, run_schedule, schedules

    ex = story_target("classic-aba", "naive").execution()
    # All zeros and the empty list: lowest enabled thread, run to the end: no preemption.
    assert run_schedule(ex, []) == run_schedule(ex, [0] * 50) == [0] * 7 + [1] * 17
    # A 1 at step 3 switches to T1, which then keeps running (past the end of the list).
    choices = run_schedule(ex, [0, 0, 0, 1])
    switch = choices.index(0, 3)
    assert choices[:4] == [0, 0, 0, 1] and set(choices[3:switch]) == {1} and set(choices[switch:]) == {0}
    # Any cut of a schedule is still a whole execution.
    for cut in range(len(choices)):
        run_schedule(ex, [1, 0, 3, 2, 1][:cut])
        assert ex.status == "done"
    assert repr(HypothesisSchedulePolicy([1, 2])) == "HypothesisSchedulePolicy([1, 2])"
    with pytest.raises(InvalidArgument):
        schedules(min_size=3, max_size=2)


def test_hypothesis_says_when_it_stops_before_a_time_budget(monkeypatch):
    for module in ("stress.search.explore", "stress.search.hypothesis_search"):
        monkeypatch.setattr(sys.modules[module], "DEFAULT_MAX_EXAMPLES", 30)
    result = explore(story_target("classic-aba", "tagged"), "hypothesis", seconds=120.0, shrink=False)
    assert result.failure is None and result.stats.executions >= 30
    assert result.stats.seconds < 120
    assert any("hypothesis stopped at 30 executions" in note for note in result.notes), result.notes
