"""Harmful and benign ABA: the engine's provenance rule (docs/structures.md).

A stale pointer — its node freed or reincarnated since the thread loaded it —
is a violation only where it does harm: a write through it, a successful CAS
expecting it after the thread read the node in its earlier life, linking what
was read from that life, or returning a value read through it. Treiber's push
compares and stores only the address: a benign ABA, a note in the trace.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stress.checks import check_execution
from stress.engine import Execution
from stress.search import explore
from stress.report import format_report
from stress.scenario import load
from stress.structures import load_source
from tests.test_user_structures import USER_STACK

ROOT = Path(__file__).resolve().parent.parent
PUSH_ABA = ROOT / "scenarios" / "treiber_push_aba.toml"

NOTE = ("benign ABA: T0's CAS on top expected #0 loaded at step 1 as generation 1, now generation 2; "
        "the value written does not depend on #0's earlier life")


def _run(ex: Execution, schedule: list[tuple[int, int | None]]) -> Execution:
    """Run (thread, steps) pairs in order; steps None: until it finishes."""
    mask = ex.start()
    for tid, steps in schedule:
        taken = 0
        while mask & (1 << tid) and (steps is None or taken < steps):
            mask = ex.step(tid)
            taken += 1
    assert mask == 0, "the schedule left the execution unfinished"
    return ex


def _push_during_pop_push(variant: str, **options) -> Execution:
    """T0 pushes 5 up to its CAS (alloc, load top = A); T1 pops A and pushes 7
    into A's recycled slot; then T0's CAS succeeds against the reincarnated A."""
    ex = Execution("treiber", variant, [[("push", 5)], [("pop", None), ("push", 7)]],
                   initial=[1], options=options or None)
    return _run(ex, [(0, 2), (1, None), (0, None)])


@pytest.mark.parametrize("variant, options", [("naive", {}), ("hazard", {"hp_threshold": 1})])
def test_benign_push_aba_is_a_note_not_a_violation(variant, options):
    ex = _push_during_pop_push(variant, **options)
    assert ex.violations() == []
    assert check_execution(ex).ok
    notes = ex.events(["note"])
    assert [n.value for n in notes] == [NOTE]
    cas = next(e for e in ex.events() if e.index == notes[0].index - 1)
    assert cas.kind == "cas" and cas.location == "top" and cas.stale and not cas.flagged
    assert f"note: {NOTE}\n" in ex.trace_text()
    assert notes[0].text(compact=True) == "benign ABA #0 g1→g2"


@pytest.mark.parametrize("variant, options", [("naive", {}), ("hazard", {"hp_threshold": 1})])
def test_benign_push_aba_is_clean_under_exhaustive_search_to_three_preemptions(variant, options):
    target = load(PUSH_ABA).target(variant)
    result = explore(target, "exhaustive", executions=100_000, seconds=60, max_preemptions=3, shrink=False)
    assert result.failure is None, result.failure and result.failure.result.decisive.message
    assert result.stats.executions >= 90   # every schedule with up to 3 preemptions


def test_pop_aba_is_harmful_even_when_the_value_written_is_null():
    """T0 pops the only node A, reading next = null and value 1, and pauses;
    T1 pops A and pushes 5 into A's slot. T0's CAS(top, A, null) writes null
    — no node reference, but derived from A's earlier life all the same — and
    returns 1, which T1 already popped: 5 is lost."""
    ex = Execution("treiber", "naive", [[("pop", None)], [("pop", None), ("push", 5)]], initial=[1])
    result = check_execution(_run(ex, [(0, 3), (1, None), (0, None)]))
    decisive = result.decisive
    assert decisive.kind == "aba" and decisive.thread == 0
    assert decisive.message.startswith("T0 CAS succeeded expecting #0 as loaded at step 0 (generation 1)")
    assert decisive.provenance["gen_loaded"] == 1 and decisive.provenance["gen_now"] == 2
    assert {"duplicate-value", "lost-value"} <= result.kinds
    assert ex.events(["note"]) == []


def test_a_cas_after_reading_a_life_that_is_over_is_harmful_even_a_later_one():
    """T0 loads top = A; T1 pops A and pushes 5 (A's second life); T0 reads
    next and value of that second life; T1 pops it and pushes 6 (A's third
    life); T0's CAS(top, A, null) succeeds with what it read from a life that
    is over: it returns 5, which T1 already popped, and 6 is lost."""
    ex = Execution("treiber", "naive", [[("pop", None)], [("pop", None), ("push", 5), ("pop", None), ("push", 6)]],
                   initial=[1])
    _run(ex, [(0, 1), (1, 8), (0, 2), (1, None), (0, None)])
    result = check_execution(ex)
    assert result.decisive.kind == "aba" and result.decisive.thread == 0
    assert result.decisive.provenance["gen_now"] == 3
    assert {"duplicate-value", "lost-value"} <= result.kinds


def test_a_cas_after_reading_through_the_stale_pointer_is_harmful():
    """T0 loads top = A; T1 pops A and pushes 5 into A's slot; T0 reads next
    and value through its stale pointer, and its CAS(top, A, next) succeeds:
    the value 5 read through the stale pointer goes to the caller. Reported
    once, at the CAS."""
    ex = Execution("treiber", "naive", [[("pop", None)], [("pop", None), ("push", 5)]], initial=[1])
    _run(ex, [(0, 1), (1, None), (0, None)])
    kinds = [(v.kind, v.message.split(";")[0]) for v in ex.violations()]
    assert kinds[0] == ("aba", "T0 CAS succeeded expecting #0 as loaded at step 0 (generation 1)")
    assert not [k for k in kinds if "returned a value" in k[1]]


def test_what_an_earlier_operation_read_does_not_make_a_push_harmful():
    """T0's pop reads A (top, next, value), but T1 pushes 9 and the pop takes
    that instead; T0's push then loads top = A, T1 pops A and pushes 7 into
    A's slot, and T0's push CAS succeeds on the reincarnation: benign, since
    the push itself read nothing of A."""
    ex = Execution("treiber", "naive", [[("pop", None), ("push", 5)], [("push", 9), ("pop", None), ("push", 7)]],
                   initial=[1])
    _run(ex, [(0, 3), (1, 3), (0, 8), (1, None), (0, None)])
    assert ex.violations() == []
    (note,) = ex.events(["note"])
    assert note.value.startswith("benign ABA: T0's CAS on top expected #0 loaded at step ")
    assert check_execution(ex).ok


def test_treiber_hazard_push_takes_no_hazard():
    ex = _run(Execution("treiber", "hazard", [[("push", 5)]], initial=[1]), [(0, None)])
    touched = {e.location for e in ex.events() if e.location}
    assert touched == {"top", "#1.value", "#1.next"}
    assert not [e for e in ex.events() if e.kind == "fence"]


# The user's stack of test_user_structures.py, plus a peek that reads the top
# node's value and returns it with no CAS to vouch for it: a value read
# through a stale pointer escapes.
PEEK = r"""
static int peek(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    shared_t *s = shared;
    lfs_word_t top = lfs_load(&s->top, LFS_ACQUIRE);
    if (top == LFS_REF_NULL)
        return LFS_EMPTY;
    *result = lfs_load(&((node_t *)(uintptr_t)top)->value, LFS_RELAXED);
    return LFS_OK;
}

"""
OPS = '.n_ops = 2, .ops = { { "push", true, false, push }, { "pop", false, true, pop } },'
assert OPS in USER_STACK
PEEK_STACK = (USER_STACK.replace('"tmpstack"', '"peekstack"')
              .replace("const lfs_structure_t", PEEK + "const lfs_structure_t")
              .replace(OPS, OPS.replace("2", "3").replace("pop } }", 'pop }, { "peek", false, true, peek } }')))


@pytest.fixture(scope="module")
def peek_stack(tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("peek") / "peek_stack.c"
    path.write_text(PEEK_STACK)
    load_source(path)


def _peek_during_pop_push(peek_after: list[tuple[int, int | None]]) -> Execution:
    ex = Execution("peekstack", "naive", [[("peek", None)], [("pop", None), ("push", 7)]], initial=[1])
    return _run(ex, [(0, 1), *peek_after])


def test_a_value_read_through_a_stale_pointer_that_escapes_is_aba(peek_stack):
    # T0 loads top = A; T1 pops A and pushes 7 into A's slot; T0 reads the
    # value through its stale pointer and returns it.
    ex = _peek_during_pop_push([(1, None), (0, None)])
    (v,) = ex.violations()
    assert v.kind == "aba" and v.thread == 0
    assert v.message.startswith("T0 returned a value read from #0 through a pointer loaded at step 0 "
                                "(generation 1)")
    assert "reallocated by T1" in v.message and v.provenance["gen_now"] == 2


def test_a_value_read_through_a_fresh_pointer_is_no_violation(peek_stack):
    ex = _peek_during_pop_push([(0, None), (1, None)])
    assert ex.violations() == []


def test_a_failing_report_shows_the_trace_notes():
    """One execution with both: T2's pop is a harmful ABA, T0's push a benign one."""
    ex = Execution("treiber", "naive",
                   [[("push", 5)], [("pop", None), ("push", 7), ("push", 8)], [("pop", None)]],
                   initial=[1])
    # T2 reads A's top, next and value; T0 reads top = A; T1 pops A and
    # pushes 7 into A's slot; T2's CAS(top, A, null) succeeds on it (harmful)
    # and frees it; T1 pushes 8 into A's third life; T0's CAS (benign).
    _run(ex, [(2, 3), (0, 2), (1, 8), (2, None), (1, None), (0, None)])
    result = check_execution(ex)
    assert result.decisive.kind == "aba" and result.decisive.thread == 2
    (note,) = ex.events(["note"])
    assert note.value.startswith("benign ABA: T0's CAS on top expected #0 loaded at step ")
    assert "as generation 1, now generation 3;" in note.value
    text = format_report(ex, result, color=False)
    assert f"note (step {note.step}): {note.value}" in " ".join(text.split())
    assert "│ benign ABA #0 g1→g3" in text
