"""check_execution and the checks under it: every violation kind on hand-built
pool snapshots, histories and traces; the two stories end to end; and the
quality tests -- the hazard-pointer mutants are caught by a plain random
search, and the correct schemes stay clean under the same search."""

from __future__ import annotations

import random

import pytest

from stress.checks import CheckResult, check_execution, decisive_order
from stress.checks.garbage import ReclamationBound, check_garbage, garbage_profile, reclamation_bound
from stress.checks.reachability import check_reachability, draw_queue
from stress.checks.values import check_history
from stress.engine import Event, Execution, SlotSnapshot, Snapshot
from stress.history import History, Operation
from stress.story import CLASSIC_ABA, ESSAY
from stress.structures import lookup
from stress.violations import Violation

NAIVE = lookup("msqueue", "naive")
EAGER = {"hazard": {"hp_threshold": 1}, "epoch": {"epoch_threshold": 1}}


# ----------------------------------------------------------------------
# Hand-built snapshots: nodes are {slot: (state, next, value)}, gen 1.
def snapshot(nodes: dict[int, tuple[str, int | None, int]], head: int | None, tail: int | None,
             capacity: int = 8, gens: dict[int, int] | None = None) -> Snapshot:
    slots = []
    for s in range(capacity):
        state, nxt, value = nodes.get(s, ("FREE", None, 0))
        slots.append(SlotSnapshot(s, state, (gens or {}).get(s, 1), (0, value), (nxt, None)))
    retired_by = tuple(0 if slots[s].state == "RETIRED" else -1 for s in range(capacity))
    return Snapshot(NAIVE, tuple(slots), {"head": (head,), "tail": (tail,)},
                    {"head": (0,), "tail": (0,)}, retired_by)


def kinds(violations) -> list[str]:
    return [v.kind for v in violations]


def run_alternating(ex: Execution) -> None:
    """Run ex to the end, switching thread at every step."""
    mask, turn = ex.start(), 0
    while mask:
        enabled = [t for t in range(ex.nthreads) if mask >> t & 1]
        mask = ex.step(enabled[turn % len(enabled)])
        turn += 1


def test_a_sound_queue_has_no_structural_violation():
    snap = snapshot({0: ("LIVE", 1, 0), 1: ("LIVE", 2, 10), 2: ("LIVE", None, 20),
                     5: ("RETIRED", 0, 9)}, head=0, tail=2)
    assert check_reachability(snap, quiescent=True) == []
    assert draw_queue(snap) == "head → #0(0) → #1(10) → #2(20)   tail → #2"


def test_cycle_names_the_loop():
    snap = snapshot({0: ("LIVE", 1, 0), 1: ("LIVE", 2, 10), 2: ("LIVE", 1, 20)}, head=0, tail=2)
    found = check_reachability(snap, quiescent=True)
    assert "cycle" in kinds(found)
    cycle = found[kinds(found).index("cycle")]
    assert "#0 → #1 → #2 → #1" in cycle.message and cycle.slots == (0, 1, 2)


def test_severed_names_where_the_chain_stops_and_what_is_cut_off():
    # head -> #0 -> #1 ; #2 -> #3 <- tail, cut off
    snap = snapshot({0: ("LIVE", 1, 0), 1: ("LIVE", None, 10), 2: ("LIVE", 3, 20),
                     3: ("LIVE", None, 30)}, head=0, tail=3)
    found = check_reachability(snap, quiescent=True)
    severed = [v for v in found if v.kind == "severed"]
    assert len(severed) == 1
    assert severed[0].provenance == {"chain": [0, 1], "tail": 3, "cut_off": [2, 3]}
    assert "stops at #1 g1" in severed[0].message
    leak = [v for v in found if v.kind == "leak"]
    assert leak[0].slots == (2,) and "1 live node(s)" in leak[0].message


def test_tail_lagging_is_severed_only_at_quiescence():
    snap = snapshot({0: ("LIVE", 1, 0), 1: ("LIVE", 2, 10), 2: ("LIVE", None, 20)}, head=0, tail=1)
    assert check_reachability(snap, quiescent=False) == []
    found = check_reachability(snap, quiescent=True)
    assert kinds(found) == ["severed"] and "lags 1 node(s)" in found[0].message


def test_link_to_a_free_slot_is_use_after_free():
    snap = snapshot({0: ("LIVE", 1, 0), 1: ("FREE", None, 10)}, head=0, tail=0)
    found = check_reachability(snap, quiescent=True)
    assert set(kinds(found)) == {"use-after-free"}  # from head and from tail
    assert found[0].slots == (1,) and "#0.next links to #1, which is FREE" in found[0].message


def test_leak_needs_quiescence_and_spares_retired_nodes():
    snap = snapshot({0: ("LIVE", None, 0), 3: ("LIVE", None, 7), 4: ("RETIRED", None, 8)},
                    head=0, tail=0, gens={3: 2})
    assert check_reachability(snap, quiescent=False) == []
    found = check_reachability(snap, quiescent=True)
    assert kinds(found) == ["leak"]
    assert found[0].slots == (3,) and "#3 g2 (7)" in found[0].message


# ----------------------------------------------------------------------
# Hand-built histories.
def op(tid, name, arg, result, invoke, response, empty=False):
    return Operation(tid, name, arg, result, empty, invoke, response)


def test_overlapping_history_that_is_linearizable_passes():
    # enqueue(1) and enqueue(2) overlap; the dequeues see 2 then 1: fine,
    # enqueue(2) may have taken effect first.
    h = History([op(0, "enqueue", 1, None, 0, 10), op(1, "enqueue", 2, None, 1, 9),
                 op(0, "dequeue", None, 2, 11, 12), op(1, "dequeue", None, 1, 13, 14)])
    result = check_history(h, "queue", final=[])
    assert result.violations == [] and result.linearizability.ok is True


def test_fifo_violation_is_not_linearizable():
    h = History([op(0, "enqueue", 1, None, 0, 1), op(0, "enqueue", 2, None, 2, 3),
                 op(1, "dequeue", None, 2, 4, 5), op(1, "dequeue", None, 1, 6, 7)])
    result = check_history(h, "queue", final=[])
    assert kinds(result.violations) == ["not-linearizable"]
    assert result.violations[0].step == 5 and result.violations[0].thread == 1


def test_lost_and_duplicate_values():
    lost = History([op(0, "enqueue", 5, None, 0, 1), op(1, "dequeue", None, None, 2, 3, empty=True)])
    assert "lost-value" in kinds(check_history(lost, "queue", final=[]).violations)
    dup = History([op(0, "dequeue", None, 1, 0, 3), op(1, "dequeue", None, 1, 1, 2)])
    found = check_history(dup, "queue", initial=[1], final=[]).violations
    assert kinds(found)[0] == "duplicate-value" and "not-linearizable" in kinds(found)


# ----------------------------------------------------------------------
# Garbage, on hand-built traces.
def ev(step, tid, kind, slot):
    return Event(index=0, step=step, tid=tid, kind=kind, order="relaxed", location="", slot=slot,
                 gen=1, value="", expected="", op="", stale=False, flagged=False)


def test_garbage_profile_counts_retired_until_freed():
    events = [ev(0, 0, "retire", 1), ev(1, 0, "retire", 2), ev(2, 1, "retire", 3),
              ev(3, 0, "free", 1), ev(3, 0, "free", 3), ev(4, 1, "retire", 2)]  # last: double retire
    profile = garbage_profile(events, 2, steps=6)
    assert profile.per_step == (1, 2, 3, 1, 1, 1)
    assert profile.thread_peaks == (2, 1) and profile.peak == 3 and profile.peak_step == 2
    assert profile.final == 1


def test_unbounded_garbage_above_the_hazard_bound():
    bound = ReclamationBound("hazard", 2, "at most 2 per thread")
    events = [ev(s, 1, "retire", s) for s in range(4)] + [ev(4, 1, "free", 0)]
    found = check_garbage(garbage_profile(events, 2, bound=bound))
    assert kinds(found) == ["unbounded-garbage"]
    v = found[0]
    assert v.thread == 1 and v.step == 2 and v.provenance["peak"] == 4 and v.provenance["bound"] == 2
    # Epochs: the growth is shown, never a violation.
    epoch = garbage_profile(events, 2, bound=ReclamationBound("epoch", None, "no bound"))
    assert check_garbage(epoch) == [] and epoch.peak == 4 and epoch.sparkline()


def test_reclamation_bounds_follow_the_variant():
    hazard = Execution("msqueue", "hazard", [[("dequeue", None)]] * 3, options={"hp_threshold": 2})
    b = reclamation_bound(hazard)
    assert (b.scheme, b.per_thread) == ("hazard", 3 * 2 + 1)  # H = 3 threads x 2 hazards
    big = Execution("msqueue", "hazard", [[("dequeue", None)]], options={"hp_threshold": 64})
    assert reclamation_bound(big).per_thread == 64
    assert reclamation_bound(Execution("msqueue", "epoch", [[("dequeue", None)]])).per_thread is None
    assert reclamation_bound(Execution("msqueue", "naive", [[("dequeue", None)]])).scheme is None


# ----------------------------------------------------------------------
# Ordering: the decisive violation comes first.
def test_decisive_is_the_earliest_harmful_access_that_did_the_damage():
    harmless = Violation("use-after-free", "read a freed node", step=3, thread=1, slots=(7,))
    causal = Violation("aba", "stored through a stale pointer", step=40, thread=0, slots=(2,))
    same_step = Violation("use-after-free", "linked a freed node", step=40, thread=0, slots=(2,))
    severed = Violation("severed", "cut", slots=(2, 4))
    lost = Violation("lost-value", "value 7 lost")
    livelock = Violation("livelock", "step cap", step=99)
    garbage = Violation("unbounded-garbage", "too much", step=5, thread=0)
    double = Violation("double-free", "freed twice", step=50, thread=1, slots=(4,))
    ordered = decisive_order([livelock, lost, severed, harmless, same_step, garbage, double, causal])
    assert kinds(ordered) == ["aba", "use-after-free", "double-free", "use-after-free", "severed",
                              "lost-value", "unbounded-garbage", "livelock"]
    assert ordered[3] is harmless
    # Without damage to point at, the earliest harmful access is decisive.
    assert decisive_order([causal, harmless])[0] is harmless


# ----------------------------------------------------------------------
# Real executions.
def test_events_filtered_by_kind_are_the_same_events():
    ex = ESSAY.execution("hazard", options={"hp_threshold": 1})
    ESSAY.build(ex)
    everything = ex.events()
    for kinds_wanted in (("invoke", "return"), ("alloc", "retire", "free"), ()):
        assert ex.events(kinds_wanted) == [e for e in everything if e.kind in kinds_wanted]


def test_clean_execution_checks_clean():
    ex = Execution("msqueue", "tagged", [[("enqueue", 5)], [("dequeue", None)]], initial=[1])
    run_alternating(ex)
    result = check_execution(ex)
    assert isinstance(result, CheckResult)
    assert result.ok and result.decisive is None and result.linearizability.ok is True
    assert result.garbage is None and result.to_json()["violations"] == []


def test_essay_story_on_naive():
    ex = ESSAY.execution("naive")
    ESSAY.build(ex)
    result = check_execution(ex)
    d = result.decisive
    assert (d.kind, d.step, d.thread, d.slots) == ("aba", 53, 0, (0,))
    assert d.provenance["gen_loaded"] == 1 and d.provenance["gen_now"] == 2
    assert {"severed", "leak", "lost-value"} <= result.kinds
    severed = next(v for v in result.violations if v.kind == "severed")
    assert severed.provenance["cut_off"] == [4, 5]
    leak = next(v for v in result.violations if v.kind == "leak")
    assert leak.slots == (4,)
    lost = sorted(v.provenance["value"] for v in result.violations if v.kind == "lost-value")
    assert lost == [7, 8]


def test_classic_aba_gives_aba_and_value_damage_in_one_result():
    ex = CLASSIC_ABA.execution("naive")
    CLASSIC_ABA.build(ex)
    result = check_execution(ex)
    assert result.decisive.kind == "aba" and result.decisive.step == 25
    assert result.kinds & {"lost-value", "duplicate-value", "not-linearizable"}
    assert result.linearizability.ok is False


@pytest.mark.parametrize("variant", ["tagged", "hazard", "epoch"])
def test_stories_are_clean_on_protected_variants(variant):
    for story in (ESSAY, CLASSIC_ABA):
        if story is ESSAY and variant == "tagged":
            continue  # the essay's deferred cleanup writes through a stale pointer: tags don't help
        ex = story.execution(variant, options=EAGER.get(variant))
        story.build(ex)
        result = check_execution(ex)
        assert result.ok, result.violations
        if variant != "tagged":
            assert result.garbage is not None and result.garbage.peak >= 1


def test_step_cap_is_livelock():
    ex = Execution("msqueue", "naive", [[("enqueue", 1), ("dequeue", None)]], step_cap=5)
    ex.run([0] * 10)
    result = check_execution(ex)
    assert result.status == "livelock"
    assert "livelock" in result.kinds


def test_pool_exhaustion_is_reported():
    ex = Execution("msqueue", "naive", [[("enqueue", i) for i in range(4)]], capacity=3)
    ex.run([0] * 100)
    assert "pool-exhausted" in check_execution(ex).kinds


def test_unknown_linearizability_is_a_note_not_a_violation():
    ex = Execution("msqueue", "tagged", [[("enqueue", 5), ("dequeue", None)], [("dequeue", None)]])
    run_alternating(ex)
    result = check_execution(ex, linearizability_budget=0.0)  # out of time at the first look
    assert result.ok and result.linearizability.ok is None
    assert result.notes and "unknown" in result.notes[0]


# ----------------------------------------------------------------------
# Quality: a plain random search finds the hazard-pointer mutants.
PROGRAMS = [[("dequeue", None), ("enqueue", 3)], [("dequeue", None), ("enqueue", 4)],
            [("dequeue", None), ("dequeue", None)]]


def sticky_random_run(ex: Execution, rng: random.Random, stay: float = 0.9) -> list[int]:
    """Run ex to the end: keep the current thread with probability ``stay``,
    else pick any enabled thread (long runs make preemptions inside an
    operation likely, which is where reclamation bugs live)."""
    choices: list[int] = []
    mask = ex.start()
    current = None
    while mask:
        enabled = [t for t in range(ex.nthreads) if mask >> t & 1]
        if current not in enabled or rng.random() > stay:
            current = rng.choice(enabled)
        choices.append(current)
        mask = ex.step(current)
    return choices


def search(variant: str, options: dict[str, int], budget: int = 2000) -> tuple[int, CheckResult] | None:
    ex = Execution("msqueue", variant, PROGRAMS, initial=(1, 2), options=options, capacity=16)
    for seed in range(budget):
        sticky_random_run(ex, random.Random(seed))
        result = check_execution(ex)
        if not result.ok:
            return seed, result
    return None


@pytest.mark.parametrize("mutant", [1, 2, 3])
def test_hazard_mutants_are_caught_as_use_after_free_or_aba(mutant):
    found = search("hazard", {"hp_threshold": 1, "mutant": mutant})
    assert found is not None, f"mutant {mutant} survived 2000 random executions"
    seed, result = found
    assert result.decisive.kind in ("use-after-free", "aba"), result.violations
    assert result.decisive.step is not None and result.decisive.provenance["freed_step"] is not None


@pytest.mark.parametrize("variant, options", [
    ("hazard", {"hp_threshold": 1}), ("hazard", {}), ("epoch", {"epoch_threshold": 1}), ("epoch", {})])
def test_correct_reclamation_stays_clean_under_the_same_search(variant, options):
    assert search(variant, options) is None
