"""Every primitive of lfstress.h runs, in both builds.

- testonly/primitives (native/testonly/primitives.c) calls each primitive
  with each memory order from deep frames with 4 KiB of SSE-filled locals,
  and checks its own results (abort() on a broken invariant, a "crash"):
  clean under every scheduler for more than 10,000 executions in all, with
  the conservation of its results checked here as well, and on real threads;
- a user's five-line counter calling lfs_fetch_add or lfs_exchange, the two
  primitives whose stepped code spills SSE registers: a fiber entered off the
  ABI's 16-byte stack alignment faults there at step 0.
"""

from __future__ import annotations

import random

import pytest

from stress.checks import check_execution
from stress.contained import run_free
from stress.search import explore
from stress.structures import load_source
from stress.target import Target
from tests.testonly import TESTONLY

DEPTH = 5  # the structure's default: one frame per memory order

# Three threads, four runs; thread 0 then verifies the totals of all four.
PROGRAMS = ((("run", None), ("run", None), ("verify", 4)), (("run", None),), (("run", None),))
RUNS = 4


def _target(programs=PROGRAMS, **kw) -> Target:
    return Target("testonly", "primitives", programs, capacity=16, source=TESTONLY, **kw)


# scheduler, executions, native fast path, scheduler parameters
SEARCHES = [
    ("random", 5000, True, {}),
    ("pct", 3000, True, {}),
    ("random", 500, False, {}),
    ("pct", 500, False, {}),
    ("urw", 800, False, {}),
    ("exhaustive", 800, False, {"max_preemptions": 2}),
    ("hypothesis", 300, False, {}),
]


def test_the_searches_add_up_to_more_than_ten_thousand_executions():
    assert sum(n for _, n, _, _ in SEARCHES) >= 10_000


@pytest.mark.parametrize("scheduler,executions,native,params", SEARCHES,
                         ids=[f"{s}-{'native' if n else 'python'}" for s, _, n, _ in SEARCHES])
def test_every_primitive_is_clean_under_every_scheduler(scheduler, executions, native, params):
    result = explore(_target(), scheduler, seed=7, executions=executions, native=native, **params)
    assert result.failure is None, result.failure.result.violations
    assert result.stats.executions == executions


def _run_to_end(ex, rng: random.Random) -> None:
    mask = ex.start()
    while mask:
        enabled = [t for t in range(ex.nthreads) if mask >> t & 1]
        mask = ex.step(rng.choice(enabled))


def test_every_primitive_conserves_its_results_in_each_execution():
    # What verify checks inside the structure, checked again from outside:
    # each run returns how many finished before it (a permutation), and the
    # final words hold the totals.
    ex = _target().execution()
    rng = random.Random(12)
    for _ in range(300):
        _run_to_end(ex, rng)
        assert ex.status == "done"
        assert not check_execution(ex).violations
        ops = ex.history()
        assert sorted(o.result for o in ops if o.op == "run") == list(range(RUNS))
        assert [o.result for o in ops if o.op == "verify"] == [RUNS * DEPTH]
        words = {name: values[0] for name, values in ex.snapshot().root_words.items()}
        assert words["adds"] == words["cas_count"] == RUNS * DEPTH
        assert words["next_ticket"] == words["now_serving"] == words["guarded"] == words["finished"] == RUNS
        put, taken = ex.snapshot().root_words["swapped_in"], ex.snapshot().root_words["swapped_out"]
        assert sum(put) % 2**64 == (sum(taken) + words["swap"]) % 2**64   # C sums wrap
        assert ex.snapshot().roots["last"][0] is not None   # the last run's node, still linked


def test_the_self_checks_can_fail():
    # verify told of fewer runs than there are: its check fires (abort(),
    # reported as a crash), so a clean verdict above means the checks held.
    wrong = _target(((("run", None), ("run", None), ("verify", 1)),))
    ex = wrong.execution()
    _run_to_end(ex, random.Random(0))
    assert [v.kind for v in check_execution(ex).violations] == ["crash"]


def test_every_primitive_runs_clean_on_real_threads(testonly):
    runs = 300
    programs = [[("run", None)] * runs + [("verify", 4 * runs)]] + [[("run", None)] * runs] * 3
    # A roomy pool: a run that found it empty would leave verify waiting.
    result = run_free("testonly", "primitives", programs, capacity=1024, timeout=20.0)
    assert result["outcome"] == "ok", result
    assert all(status == 1 for thread in result["statuses"] for status in thread)


COUNTER = r"""
#include "lfstress.h"

typedef struct shared { lfs_word_t count, last; } shared_t;

static int bump(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    *result = lfs_fetch_add(&((shared_t *)shared)->count, 1, LFS_ACQ_REL);
    return LFS_OK;
}

static int swap(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    *result = lfs_exchange(&((shared_t *)shared)->last, arg, LFS_ACQ_REL);
    return LFS_OK;
}

const lfs_structure_t tmp_counter = {
    .family = "tmpcounter", .variant = "rmw", .summary = "a test's counter: fetch-add and exchange",
    .spec = "none", .ref_encoding = LFS_REF_POINTER, .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(shared_t), .node_words = 1, .fields = { { "unused", LFS_DATA } },
    .n_roots = 2, .roots = { { "count", 0, 1, LFS_DATA }, { "last", 8, 1, LFS_DATA } },
    .n_ops = 2, .ops = { { "bump", false, true, bump }, { "swap", true, true, swap } },
};

LFS_EXPORT_STRUCTURES(&tmp_counter);
"""


def test_a_users_fetch_add_and_exchange_counter_runs_clean(tmp_path):
    source = tmp_path / "counter.c"
    source.write_text(COUNTER)
    load_source(source)
    programs = ((("bump", None), ("swap", 5)), (("bump", None), ("swap", 7)))
    target = Target("tmpcounter", "rmw", programs, capacity=4)
    ex = target.execution()
    for seed in range(50):
        _run_to_end(ex, random.Random(seed))
        assert ex.status == "done" and not check_execution(ex).violations
        ops = ex.history()
        assert sorted(o.result for o in ops if o.op == "bump") == [0, 1]
        assert sorted(o.result for o in ops if o.op == "swap") in ([0, 5], [0, 7])
    result = explore(target, "exhaustive")
    assert result.failure is None and result.stats.executions > 1
