"""The essay's story, the classic MS96 ABA and tag wrap-around, with explicit
schedules: the four (and more) outcomes the harness must tell apart, pinned down."""

from __future__ import annotations

import pytest

from stress.checks.reachability import check_reachability, draw_queue
from stress.checks.values import check_history
from stress.story import CLASSIC_ABA, ESSAY

# Reclamation that actually reclaims: scan / try to advance at every retire.
EAGER = {"hazard": {"hp_threshold": 1}, "epoch": {"epoch_threshold": 1}}


def run_story(story, variant, **options):
    ex = story.execution(variant, options={**EAGER.get(variant, {}), **options})
    choices = story.build(ex)
    assert ex.status == "done"
    structural = check_reachability(ex.snapshot(), quiescent=True)
    return ex, choices, ex.violations(), structural


def kinds(violations):
    return {v.kind for v in violations}


@pytest.mark.parametrize("variant", ["naive", "tagged"])
def test_essay_story_severs_the_queue_and_leaks(variant):
    ex, choices, engine, structural = run_story(ESSAY, variant)
    # Thread 0 freed A (#0) before its cleanup; the schedule reallocated #0 as E.
    stale = [v for v in engine if v.kind == "aba" and v.thread == 0]
    assert len(stale) == 1, engine
    aba = stale[0]
    assert aba.slots == (0,)
    assert aba.provenance["gen_loaded"] == 1 and aba.provenance["gen_now"] == 2
    assert aba.provenance["freed_by"] == "T0"
    assert aba.provenance["allocated_by"] == "T1"
    assert "stored through a pointer to #0" in aba.message
    assert "reallocated by T1" in aba.message
    # The chain from head stops at E (#0, value 6); 7 and 8 are cut off.
    severed = [v for v in structural if v.kind == "severed"]
    assert len(severed) == 1
    assert severed[0].provenance["chain"] == [3, 2, 1, 0]
    assert severed[0].provenance["cut_off"] == [4, 5]
    leak = [v for v in structural if v.kind == "leak"]
    assert leak and leak[0].slots == (4,)  # #5 is still named by tail
    picture = draw_queue(ex.snapshot())
    assert picture.startswith("head → #3(3) → #2(4) → #1(5) → #0(6)   ⇢ (severed)")
    assert "leaked: #4(7)" in picture


@pytest.mark.parametrize("variant", ["hazard", "epoch"])
def test_essay_story_is_clean_under_safe_reclamation(variant):
    ex, choices, engine, structural = run_story(ESSAY, variant)
    assert engine == [] and structural == []
    history = check_history(ex.history(), "queue", initial=ESSAY.initial, final=None)
    assert history.violations == []
    assert [op.result for op in ex.history() if op.op == "dequeue"] == [1, 2, 3]


def test_essay_schedule_shape_is_the_same_across_variants():
    # Thread 0 stops right after giving A back, whatever the scheme.
    for variant in ("naive", "tagged", "hazard", "epoch"):
        ex, choices, *_ = run_story(ESSAY, variant)
        first_switch = choices.index(1)
        events = [e for e in ex.events() if e.tid == 0 and e.step < first_switch]
        assert events[-1].kind in ("free", "retire"), (variant, events[-1])


def test_classic_aba_on_naive_is_found_with_provenance_and_value_damage():
    ex, choices, engine, structural = run_story(CLASSIC_ABA, "naive")
    cas = [v for v in engine if v.kind == "aba" and "CAS succeeded" in v.message]
    assert len(cas) == 1
    p = cas[0].provenance
    assert cas[0].thread == 0 and cas[0].slots == (0,)
    assert (p["gen_loaded"], p["gen_now"]) == (1, 2)
    assert p["freed_by"] == "T1" and p["allocated_by"] == "T1"
    # head now points at the freed B.
    assert "use-after-free" in kinds(structural)
    history = check_history(ex.history(), "queue", initial=CLASSIC_ABA.initial, final=None)
    assert kinds(history.violations) & {"duplicate-value", "lost-value", "not-linearizable"}


@pytest.mark.parametrize("variant", ["tagged", "hazard", "epoch"])
def test_classic_aba_is_clean_on_protected_variants(variant):
    ex, choices, engine, structural = run_story(CLASSIC_ABA, variant)
    assert engine == [] and structural == []
    history = check_history(ex.history(), "queue", initial=CLASSIC_ABA.initial, final=None)
    assert history.violations == []


def test_tag_wraparound_one_bit_tags_show_aba_sixteen_do_not():
    _, _, wrapped, _ = run_story(CLASSIC_ABA, "tagged", tag_bits=1)
    assert "aba" in kinds(wrapped)
    _, _, wide, structural = run_story(CLASSIC_ABA, "tagged", tag_bits=16)
    assert wide == [] and structural == []
