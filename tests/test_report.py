"""The failure report: what a person reads (text) and a machine reads (JSON)."""

from __future__ import annotations

import random
import re

import jsonschema
import pytest

from stress.checks import CheckResult, check_execution
from stress.engine import Execution
from stress.errors import UsageError
from stress.report import SCHEMA_ID, build_report, format_report, load_schema
from stress.schedulers import run_choices
from stress.story import CLASSIC_ABA, ESSAY
from stress.violations import KINDS, Violation

ANSI = re.compile(r"\x1b\[[0-9;]*m")
REPLAY = "lfstress replay msqueue/naive --choices 0x1f3a"


def story_report(story, variant="naive", **kwargs):
    ex = story.execution(variant)
    choices = story.build(ex)
    return ex, choices, build_report(ex, choices=choices, **kwargs)


def sticky_random_run(ex: Execution, rng: random.Random, stay: float = 0.9) -> None:
    mask, current = ex.start(), None
    while mask:
        enabled = [t for t in range(ex.nthreads) if mask >> t & 1]
        if current not in enabled or rng.random() > stay:
            current = rng.choice(enabled)
        mask = ex.step(current)


@pytest.fixture(scope="module")
def three_thread_failure():
    """A hazard-pointer mutant caught on three threads: a long trace."""
    programs = [[("dequeue", None), ("enqueue", 3)], [("dequeue", None), ("enqueue", 4)],
                [("dequeue", None), ("dequeue", None)]]
    ex = Execution("msqueue", "hazard", programs, initial=(1, 2), capacity=16,
                   options={"hp_threshold": 1, "mutant": 1})
    for seed in range(2000):
        sticky_random_run(ex, random.Random(seed))
        result = check_execution(ex)
        if not result.ok:
            return ex, result, seed
    pytest.fail("no failing execution of hazard mutant 1 in 2000 random runs")


# ----------------------------------------------------------------------
def test_essay_report_tells_the_story():
    ex, choices, report = story_report(ESSAY, replay_command=REPLAY)
    text = report.text(color=False)
    lines = text.splitlines()
    assert lines[0] == "ABA at step 53 (T0) — msqueue/naive (cleanup=1)"
    assert "freed and reallocated since it was read" in lines[1]
    assert "reallocated by T1 at step 35" in text
    # The decisive row is marked, and shows the stale store into E (#0, 2nd life).
    decisive = [line for line in lines if line.lstrip().startswith(">> 53")]
    assert len(decisive) == 1 and "*store #0g2.next := null" in decisive[0]
    # Pool events in the margin, with slot and generation.
    assert any(line.rstrip().endswith("T1 alloc #0 g2") for line in lines)
    assert any(line.rstrip().endswith("T0 free #0 g1") for line in lines)
    # The queue before and after the cut at E.
    assert "queue before step 53: head → #3(3) → #2(4) → #1(5) → [#0(6)] → #4(7) → #5(8)" in text
    after = next(line for line in lines if line.startswith("queue after step 53:"))
    assert "[#0(6)]   ⇢ (severed)" in after
    assert "leaked: #4(7)" in text
    # Every violation, with provenance; severed and leak name their slots.
    assert "severed: the chain from head stops at #0 g2" in text
    assert "cut_off=[#4 #5]" in text
    assert "leak: 1 live node(s) reachable from nothing: #4 g1 (7)" in text
    assert "provenance: #0; loaded at step 3 as g1; freed by T0 at step 6" in text
    # The replay command is in the header and is the last line.
    assert lines[-1] == f"replay: {REPLAY}"
    assert f"  replay: {REPLAY}" in lines[:12]


def test_classic_aba_report_has_aba_and_value_damage():
    _, _, report = story_report(CLASSIC_ABA)
    text = report.text(color=False)
    assert text.startswith("ABA at step 25 (T0)")
    assert "duplicate-value" in text and "not-linearizable" in text
    assert "queue before step 25: head → [#0(2)]" in text
    assert "queue after step 25:  head → #1 (FREE!)" in text
    data = report.to_json()
    assert data["kind"] == "aba" and data["linearizable"] is False
    assert {"aba", "duplicate-value", "not-linearizable"} <= {v["kind"] for v in data["violations"]}


def test_colour_only_when_asked_or_on_a_terminal(capsys):
    _, _, report = story_report(CLASSIC_ABA)
    assert not ANSI.search(report.text(color=False))
    coloured = report.text(color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured) == report.text(color=False)
    assert not ANSI.search(report.text())  # pytest's stdout is not a terminal


def test_report_leaves_the_execution_as_it_was():
    ex = CLASSIC_ABA.execution("naive")
    choices = CLASSIC_ABA.build(ex)
    trace = ex.trace_text()
    report = build_report(ex)  # choices read back from the trace
    assert report.choices == choices
    assert ex.trace_text() == trace and ex.steps == len(choices)


def test_nothing_to_report_on_a_clean_execution():
    ex = CLASSIC_ABA.execution("tagged")
    CLASSIC_ABA.build(ex)
    with pytest.raises(UsageError, match="nothing to report"):
        build_report(ex)


def test_three_threads_fit_in_under_100_columns(three_thread_failure):
    ex, result, seed = three_thread_failure
    text = format_report(ex, result, color=False, replay_command=f"lfstress replay --seed {seed}")
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) < 100, max(widths)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("step"))
    assert "T0" in header and "T1" in header and "T2" in header and "pool" in header


def test_long_traces_are_elided_around_the_decisive_step(three_thread_failure):
    ex, result, _ = three_thread_failure
    report = build_report(ex, result)
    text = report.text(color=False, max_rows=20, context=3)
    assert re.search(r"… \d+ steps elided \(\d+–\d+\) …", text)
    d = result.decisive
    assert any(line.lstrip().startswith(f">> {d.step}") for line in text.splitlines())
    # The steps the provenance names are kept: the load and the free.
    for key in ("load_step", "freed_step"):
        step = d.provenance[key]
        assert re.search(rf"^\s*{step}│", text, re.M), (key, step)
    full = report.text(color=False, max_rows=10_000)
    assert "elided" not in full


def test_hand_built_double_free_renders():
    ex = CLASSIC_ABA.execution("naive")
    CLASSIC_ABA.build(ex)
    v = Violation("double-free", "T0 freed #0 again; #0 was freed by T1 at step 11", step=26, thread=0,
                  slots=(0,), provenance={"slot": 0, "freed_by": "T1", "freed_step": 11})
    report = build_report(ex, CheckResult("done", (v,)), token="tok-1", seed=7)
    text = report.text(color=False)
    assert text.startswith("DOUBLE-FREE at step 26 (T0)")
    assert "A node was freed twice." in text
    assert text.splitlines()[-1] == "replay token: tok-1"
    data = report.to_json()
    assert (data["token"], data["seed"], data["slots"]) == ("tok-1", 7, [0])


# ----------------------------------------------------------------------
# JSON: one documented schema.
@pytest.fixture(scope="module")
def schema():
    s = load_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$id"] == SCHEMA_ID
    return s


def test_schema_kinds_are_the_violation_kinds(schema):
    assert set(schema["$defs"]["kind"]["enum"]) == KINDS


@pytest.mark.parametrize("story", [ESSAY, CLASSIC_ABA])
def test_json_follows_the_schema(schema, story):
    _, _, report = story_report(story, replay_command=REPLAY, token="essay:naive:AAEC", seed=3)
    data = report.to_json()
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    # The decisive violation on top: kind, message, thread, step, slots, provenance, token.
    assert (data["kind"], data["step"], data["thread"]) == (
        report.decisive.kind, report.decisive.step, report.decisive.thread)
    assert data["violations"][0]["kind"] == data["kind"]
    assert data["token"] == "essay:naive:AAEC" and data["replay"] == REPLAY
    assert data["provenance"]["gen_loaded"] == 1
    assert isinstance(report.json_text(), str)


def test_json_of_a_reclaiming_variant_follows_the_schema(schema, three_thread_failure):
    ex, result, seed = three_thread_failure
    data = build_report(ex, result, seed=seed).to_json()
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data["garbage"]["scheme"] == "hazard" and data["garbage"]["bound_per_thread"] == 7


def test_schema_rejects_a_malformed_report(schema):
    _, _, report = story_report(CLASSIC_ABA)
    data = report.to_json()
    for broken in ({**data, "kind": "oops"}, {**data, "step": "25"},
                   {k: v for k, v in data.items() if k != "provenance"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


# ----------------------------------------------------------------------
# Nodes in a thread's hands, and the legend

# Treiber push/pop ABA: T0's pop reads top = #1 (g2), T1 pops it, frees it and
# pushes 7 into the same slot (g3); T0's CAS then succeeds and T0 frees #1.
TREIBER_PROGRAMS = [[("push", 5), ("pop", None)], [("pop", None), ("pop", None), ("push", 7)]]
TREIBER_SCHEDULE = [1] * 6 + [0] * 4 + [1] * 11 + [0] * 4


def treiber_aba_report():
    ex = Execution("treiber", "naive", TREIBER_PROGRAMS, initial=(1, 2))
    ex.run(TREIBER_SCHEDULE)
    return ex, TREIBER_SCHEDULE, build_report(ex, choices=TREIBER_SCHEDULE)


def test_a_node_a_running_operation_unlinked_is_held_not_leaked():
    _, _, report = treiber_aba_report()
    assert report.decisive.kind == "aba" and report.decisive_step == 23
    # After the CAS, T0's pop has unlinked #1 and will free it: in T0's hands.
    assert report.queue_after == "top → #0(1)   held by T0: [#1(7)]"
    assert "leaked" not in report.text(color=False).split("violations (decisive first):")[0]


def test_a_node_allocated_and_not_yet_linked_is_held_not_leaked():
    from stress.checks.reachability import draw_queue
    from stress.report import held_nodes
    ex, choices, _ = treiber_aba_report()
    events = ex.events()
    replica = Execution("treiber", "naive", ex.programs, initial=ex.initial)
    replica.run(choices[:19])      # T1 has allocated #1 for push(7) at step 18, not yet linked
    snapshot = replica.snapshot()
    assert "leaked: #1(7)" in draw_queue(snapshot)
    assert held_nodes(events, 19) == {1: 1}   # T0's pop read #1 too, before T1's push allocated it
    assert draw_queue(snapshot, held=held_nodes(events, 19)) == "top → #0(1)   held by T1: #1(7)"
    # Once push(7) has returned, a node it never linked would be leaked.
    assert held_nodes(events, None) == {}


def test_legend_names_only_the_marks_the_table_shows():
    _, _, essay = story_report(ESSAY, replay_command=REPLAY)
    legend = essay.text(color=False).split("violations")[0]
    assert "*stale: node freed or reused" in legend and "#0g2: 2nd life of node #0" in legend
    # A trace with no stale access and no node past its first life: neither mark.
    ex = Execution("msqueue", "naive", [[("dequeue", None)], [("enqueue", 2)]], initial=(1,), reuse="never")
    run_choices(ex, [])       # T0 to the end, then T1
    v = Violation("lost-value", "value 1 never came out", step=1, thread=0)
    text = build_report(ex, CheckResult("done", (v,))).text(color=False)
    assert ">> decisive step" in text and "stale" not in text and "life" not in text
    _, _, treiber = treiber_aba_report()
    assert "#1g2: 2nd life of node #1" in treiber.text(color=False)
