"""The failure report: one failing execution, told for people (text) and
machines (JSON).

Text, top to bottom:

1. the header: the decisive violation's kind, one plain sentence, what the
   engine or check said, the variant with its options and the programs;
2. the interleaving: one column per thread, one row per step (operation,
   primitive, location, value, CAS outcome, node slot and generation), the
   pool's alloc/free/retire/reclaim events in the right margin, the decisive
   step marked ``>>`` (and in colour on a terminal). Long traces keep the
   steps near the decisive one and the steps the provenance names, and say
   how many steps they left out;
3. the queue before and after the decisive step (and at the end, when that
   differs), with the node it touched in brackets;
4. every violation, decisive first, with its provenance; the garbage profile
   of a reclaiming variant;
5. last, the replay command (like the header's, never broken across lines,
   however long its token).

JSON: ``Report.to_json()`` follows ``stress/report_schema.json``
(``SCHEMA_ID``): the decisive violation's ``kind``, ``message``, ``thread``,
``step``, ``slots``, ``provenance``, the ``token``, then everything else.

The queue pictures need the pool as it was at a step: the engine is
deterministic, so a copy of the execution re-runs the schedule's prefix (the
caller's execution is left as it is).
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .checks import CheckResult, check_execution
from .checks.reachability import draw_queue
from .engine import Event, Execution
from .errors import UsageError
from .structures import catalogue
from .violations import KIND_SUMMARY, Violation

SCHEMA_ID = "https://lfstress.invalid/report-schema/1"
SCHEMA_PATH = Path(__file__).with_name("report_schema.json")

WIDTH = 99                # the text report stays under 100 columns for 3 threads
MAX_ROWS = 60             # traces with more steps than this are elided
CONTEXT = 6               # steps kept on each side of the decisive step
POOL_KINDS = ("alloc", "free", "retire", "reclaim")


@dataclass(frozen=True)
class Report:
    """One failing execution with everything its report shows."""

    structure: str
    options: dict[str, int]
    programs: list[list[tuple[str, int | None]]]
    initial: list[int]
    status: str
    steps: int
    result: CheckResult
    events: list[Event]
    choices: list[int]
    queue_before: str | None = None
    queue_after: str | None = None
    queue_final: str | None = None
    replay_command: str | None = None
    token: str | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def decisive(self) -> Violation:
        return self.result.violations[0]

    @property
    def decisive_step(self) -> int | None:
        return self.decisive.step

    # ------------------------------------------------------------------
    def text(self, *, color: bool | None = None, width: int = WIDTH,
             max_rows: int = MAX_ROWS, context: int = CONTEXT) -> str:
        """The report for a terminal. ``color`` None: only when stdout is a
        terminal and NO_COLOR is unset."""
        if color is None:
            color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        return _Text(self, color=color, width=width, max_rows=max_rows, context=context).render()

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON object (schema: ``stress/report_schema.json``)."""
        d = self.decisive
        lin = self.result.linearizability
        return {
            "schema": SCHEMA_ID,
            "kind": d.kind,
            "message": d.message,
            "summary": KIND_SUMMARY[d.kind],
            "thread": d.thread,
            "step": d.step,
            "slots": list(d.slots),
            "provenance": _jsonable(d.provenance),
            "token": self.token,
            "seed": self.seed,
            "replay": self.replay_command,
            "structure": self.structure,
            "options": dict(self.options),
            "initial": list(self.initial),
            "programs": [[_call(op, arg) for op, arg in prog] for prog in self.programs],
            "status": self.status,
            "steps": self.steps,
            "violations": [_jsonable(v.to_json()) for v in self.result.violations],
            "linearizable": None if lin is None else lin.ok,
            "garbage": None if self.result.garbage is None else self.result.garbage.to_json(),
            "queue": {"before": self.queue_before, "after": self.queue_after, "final": self.queue_final},
            "notes": list(self.result.notes),
            "trace": [_event_json(e) for e in self.events],
        }

    def json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


def build_report(
    ex: Execution,
    result: CheckResult | None = None,
    *,
    choices: Sequence[int] | None = None,
    replay_command: str | None = None,
    token: str | None = None,
    seed: int | None = None,
) -> Report:
    """The report of ``ex`` as it stands (it must have failed a check).

    ``result`` defaults to ``check_execution(ex)``. ``choices`` defaults to
    the schedule read back from the trace (each step names its thread).
    Raises UsageError when there is nothing to report.
    """
    result = result if result is not None else check_execution(ex)
    if result.ok:
        raise UsageError("nothing to report: the execution passed every check")
    events = ex.events()
    schedule = list(choices) if choices is not None else _schedule(events)
    snapshot = ex.snapshot()
    decisive = result.violations[0]
    mark = decisive.slots[0] if decisive.slots else None
    final = draw_queue(snapshot, mark=mark, held=held_nodes(events, None)) or None
    before = after = None
    if decisive.step is not None and decisive.step < len(schedule):
        replica = _replica(ex)
        replica.run(schedule[:decisive.step])
        before = draw_queue(replica.snapshot(), mark=mark, held=held_nodes(events, decisive.step)) or None
        replica.run(schedule[:decisive.step + 1])
        after = draw_queue(replica.snapshot(), mark=mark, held=held_nodes(events, decisive.step + 1)) or None
    return Report(
        structure=ex.structure.name, options=dict(ex.options), programs=ex.programs,
        initial=list(ex.initial), status=ex.status, steps=ex.steps, result=result,
        events=events, choices=schedule, queue_before=before, queue_after=after,
        queue_final=final, replay_command=replay_command, token=token, seed=seed,
    )


def format_report(ex: Execution, result: CheckResult | None = None, *, color: bool | None = None,
                  **kwargs: Any) -> str:
    """``build_report(ex, result, **kwargs).text(color=color)``."""
    return build_report(ex, result, **kwargs).text(color=color)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


# ----------------------------------------------------------------------
def _schedule(events: list[Event]) -> list[int]:
    by_step: dict[int, int] = {}
    for e in events:
        if e.kind != "invoke":
            by_step.setdefault(e.step, e.tid)
    return [by_step[s] for s in sorted(by_step)]


_NODE_REF = re.compile(r"#(\d+)")


def held_nodes(events: Sequence[Event], until: int | None) -> dict[int, int]:
    """The nodes in a thread's hands before step ``until`` (None: at the end):
    slot → the thread whose operation, still running, allocated the node or
    read a reference to it (the latest such thread). Such a node may be out
    of the structure without having leaked: allocated and not yet linked, or
    unlinked and not yet freed. A node freed, or whose thread's operation
    returned, is no longer held."""
    touched: dict[int, dict[int, int]] = {}   # thread -> {slot: index of its latest touch}
    for e in events:
        if until is not None and e.step >= until:
            break
        if e.kind == "invoke":
            touched[e.tid] = {}
        elif e.kind == "return":
            touched.pop(e.tid, None)
        elif e.kind == "free":
            for mine in touched.values():
                mine.pop(e.slot, None)
        elif e.tid in touched:
            slots = [e.slot] if e.slot >= 0 else []
            slots += [int(m) for m in _NODE_REF.findall(f"{e.value} {e.expected}")]
            for slot in slots:
                touched[e.tid][slot] = e.index
    latest: dict[int, tuple[int, int]] = {}
    for tid, mine in touched.items():
        for slot, index in mine.items():
            if slot not in latest or index > latest[slot][0]:
                latest[slot] = (index, tid)
    return {slot: tid for slot, (_, tid) in latest.items()}


def _replica(ex: Execution) -> Execution:
    family, variant = ex.structure.family, ex.structure.variant
    return Execution(family, variant, ex.programs, initial=ex.initial, options=ex.options,
                     capacity=ex.capacity, reuse=ex.reuse, step_cap=ex.step_cap)


def _call(op: str, arg: int | None) -> str:
    return f"{op}({'' if arg is None else arg})"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _event_json(e: Event) -> dict[str, Any]:
    return {"step": e.step, "thread": e.tid, "kind": e.kind, "location": e.location,
            "slot": e.slot if e.slot >= 0 else None, "gen": e.gen if e.slot >= 0 else None,
            "value": e.value, "expected": e.expected, "op": e.op,
            "stale": e.stale, "flagged": e.flagged, "text": e.text()}


def cell_text(e: Event) -> str:
    """An event as one table cell: short, the important part first."""
    return e.text(compact=True)


def margin_text(e: Event) -> str:
    """A pool event for the margin, with its thread, slot and generation."""
    if e.kind == "reclaim":
        return f"T{e.tid} scan freed {e.value}/{e.expected}"
    star = "*" if e.stale else ""
    return f"{star}T{e.tid} {e.kind} #{e.slot} g{e.gen}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


class _Text:
    """Lays a Report out as text."""

    def __init__(self, report: Report, *, color: bool, width: int, max_rows: int, context: int):
        self.r = report
        self.color = color
        self.width = width
        self.max_rows = max_rows
        self.context = context

    def style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def wrap(self, text: str, indent: str = "  ", first: str | None = None) -> list[str]:
        first = indent if first is None else first
        out: list[str] = []
        for i, para in enumerate(text.split("\n")):
            out += textwrap.wrap(para, self.width, initial_indent=first if i == 0 else indent,
                                 subsequent_indent=indent + ("" if i == 0 else "  "),
                                 break_on_hyphens=False, break_long_words=False) or [""]
        return out

    # ------------------------------------------------------------------
    def render(self) -> str:
        r = self.r
        lines = self.header() + [""] + self.table() + [""] + self.queues()
        lines += [""] + self.violations()
        if r.result.garbage is not None and r.result.garbage.peak:
            lines += [""] + self.garbage()
        lines += [""] + self.replay()
        return "\n".join(line.rstrip() for line in lines) + "\n"

    def header(self) -> list[str]:
        r, d = self.r, self.r.decisive
        where = f" at step {d.step}" if d.step is not None else ""
        who = f" (T{d.thread})" if d.thread is not None else ""
        title = f"{d.kind.upper()}{where}{who} — {r.structure}"
        opts = ", ".join(f"{k}={v}" for k, v in r.options.items())
        if opts:
            title += f" ({opts})"
        lines = [self.style(title, "1;31")]
        summary = KIND_SUMMARY[d.kind]
        lines += self.wrap(summary[0].upper() + summary[1:] + ".")
        lines += self.wrap(d.message)
        others = [v.kind for v in r.result.violations[1:]]
        if others:
            counted = {k: others.count(k) for k in dict.fromkeys(others)}
            also = ", ".join(k if n == 1 else f"{k} ×{n}" for k, n in counted.items())
            lines += self.wrap(f"also: {also}")
        lines.append("")
        init = ", ".join(map(str, r.initial)) or "empty"
        lines += self.wrap(f"initially: {init}; {len(r.programs)} threads, {r.steps} steps, {r.status}")
        for tid, prog in enumerate(r.programs):
            lines += self.wrap(" ".join(_call(op, arg) for op, arg in prog), indent="      ",
                               first=f"  T{tid}: ")
        if r.replay_command:
            lines.append(f"  replay: {r.replay_command}")  # never broken: it is copied and pasted
        return lines

    # ------------------------------------------------------------------
    def rows(self) -> dict[int, tuple[int, list[str], list[str]]]:
        """step -> (thread, cell lines, margin lines)."""
        rows: dict[int, tuple[int, list[str], list[str]]] = {}
        for e in self.r.events:
            tid, cells, margin = rows.setdefault(e.step, (e.tid, [], []))
            if e.kind in POOL_KINDS:
                margin.append(margin_text(e))
            else:
                cells.append(cell_text(e))
        return rows

    def kept_steps(self, steps: list[int]) -> set[int]:
        if len(steps) <= self.max_rows:
            return set(steps)
        d = self.r.decisive
        keep: set[int] = {steps[0], steps[-1]}
        anchors = [d.step] if d.step is not None else []
        landmarks: list[int] = []
        for v in self.r.result.violations:
            if v.step is not None:
                landmarks.append(v.step)
            for key in ("load_step", "freed_step", "allocated_step"):
                if isinstance(v.provenance.get(key), int):
                    landmarks.append(v.provenance[key])
        # Steps that touch the decisive violation's nodes (a leaked node's
        # allocation and linking, say), when there is no decisive step.
        if d.step is None and d.slots:
            names = {f"#{slot}" for slot in d.slots}
            for e in self.r.events:
                if e.slot in d.slots or e.value in names or e.expected in names:
                    landmarks.append(e.step)
        for a in anchors:
            keep.update(range(a - self.context, a + self.context + 1))
        for s in landmarks:
            keep.update(range(s - 1, s + 2))
        return keep

    def table(self) -> list[str]:
        r = self.r
        n = len(r.programs)
        rows = self.rows()
        steps = sorted(rows)
        margin_w = min(18, max([len(m) for _, _, ms in rows.values() for m in ms] + [4]))
        # The step column carries the ">>" mark: ">> 53".
        step_w = max(5, len(str(steps[-1] if steps else 0)) + 3)
        # step, then per thread "│ " + cell, then "│ " + margin
        room = self.width - step_w - 2 * n - 2 - margin_w
        content_w = max([len(c) for _, cs, _ in rows.values() for c in cs] + [4])
        cell_w = max(12, min(content_w, room // n, 34))

        def line(mark: bool, step: str, cells: list[str], margin: str) -> str:
            first = (">> " + step).rjust(step_w) if mark else step.rjust(step_w)
            return (first + "".join("│ " + _clip(c, cell_w).ljust(cell_w) for c in cells)
                    + "│ " + _clip(margin, margin_w)).rstrip()

        out = [line(False, "step", [f"T{t}" for t in range(n)], "pool"),
               "─" * step_w + "".join("┼─" + "─" * cell_w for _ in range(n)) + "┼─" + "─" * margin_w]
        kept = self.kept_steps(steps)
        decisive = r.decisive_step
        skipped: list[int] = []

        def flush() -> None:
            if not skipped:
                return
            if len(skipped) <= 2:
                for s in skipped:
                    emit(s)
            else:
                out.append(self.style(
                    f"{'⋮'.rjust(step_w)}   … {len(skipped)} steps elided "
                    f"({skipped[0]}–{skipped[-1]}) …", "2"))
            skipped.clear()

        def emit(s: int) -> None:
            tid, cells, margin = rows[s]
            height = max(len(cells), len(margin), 1)
            for i in range(height):
                cols = [""] * n
                if i < len(cells):
                    cols[tid] = cells[i]
                text = line(s == decisive and i == 0,
                            str(s) if i == 0 else "", cols, margin[i] if i < len(margin) else "")
                out.append(self.style(text, "1;31") if s == decisive else text)

        for s in steps:
            if s in kept:
                flush()
                emit(s)
            else:
                skipped.append(s)
        flush()
        legend = self.legend([e for e in r.events if e.step in kept])
        if legend:
            out.append(self.style("  " + legend, "2"))
        return out

    def legend(self, shown: list[Event]) -> str:
        """What the marks in the table mean: only the marks the table shows."""
        parts = [">> decisive step"] if self.r.decisive_step is not None else []
        if any(e.stale for e in shown):
            parts.append("*stale: node freed or reused since the pointer was loaded")
        lives = sorted((e for e in shown if e.slot >= 0 and e.gen > 1),   # the decisive node's first
                       key=lambda e: e.slot not in self.r.decisive.slots)
        if lives:
            later = lives[0]
            parts.append(f"#{later.slot}g{later.gen}: {_ordinal(later.gen)} life of node #{later.slot}")
        return " · ".join(parts)

    # ------------------------------------------------------------------
    def queues(self) -> list[str]:
        r = self.r
        d = r.decisive
        out = []
        spec = catalogue()[r.structure].spec if r.structure in catalogue() else "none"
        noun = spec if spec in ("queue", "stack") else "structure"
        if d.step is not None and r.queue_before is not None:
            labels = [f"{noun} before step {d.step}:", f"{noun} after step {d.step}:", f"{noun} at the end:"]
            w = max(map(len, labels))
            out += self.picture(labels[0].ljust(w), r.queue_before)
            out += self.picture(labels[1].ljust(w), r.queue_after or "")
            if r.queue_final and r.queue_final != r.queue_after:
                out += self.picture(labels[2].ljust(w), r.queue_final)
        elif r.queue_final:
            out += self.picture(f"{noun} at the end:", r.queue_final)
        if d.slots and out:
            out.append(self.style(f"  [#{d.slots[0]}]: the node the decisive violation names", "2"))
        return out

    def picture(self, label: str, drawing: str) -> list[str]:
        """A queue drawing, broken between its groups (chain, tail, leaked)
        and then before an arrow when it is too wide."""
        indent = " " * (len(label) + 1)
        lines, current = [], label
        for g, group in enumerate(drawing.split("   ")):
            pieces = group.split(" → ")
            for i, piece in enumerate(pieces):
                glue = " " if not i and (g == 0 or current == label) else ("   " if not i else " → ")
                if len(current) + len(glue) + len(piece) > self.width and current.strip():
                    lines.append(current)
                    current = indent + ("→ " if i else "")
                    glue = ""
                current += glue + piece
        lines.append(current)
        return lines

    def violations(self) -> list[str]:
        out = [self.style("violations (decisive first):", "1")]
        for i, v in enumerate(self.r.result.violations, 1):
            where = []
            if v.step is not None:
                where.append(f"step {v.step}")
            if v.thread is not None:
                where.append(f"T{v.thread}")
            head = f"{i:2d}. {v.kind}" + (f" ({', '.join(where)})" if where else "") + ": "
            out += self.wrap(head + v.message, indent="      ", first="")
            prov = _provenance_text(v)
            if prov:
                out += self.wrap(prov, indent="        ", first="      ")
        for note in self.r.result.notes:
            out += self.wrap("note: " + note)
        for e in self.r.events:
            if e.kind == "note":
                out += self.wrap(f"note (step {e.step}): {e.value}")
        return out

    def garbage(self) -> list[str]:
        g = self.r.result.garbage
        assert g is not None
        return [self.style("garbage (retired, not yet freed) by step:", "1"),
                "  " + g.sparkline(self.width - 4)] + self.wrap(g.describe())

    def replay(self) -> list[str]:
        r = self.r
        if r.replay_command:
            return [self.style("replay: ", "1") + r.replay_command]
        if r.token:
            return [self.style("replay token: ", "1") + r.token]
        runs: list[list[int]] = []
        for tid in r.choices:
            if runs and runs[-1][0] == tid:
                runs[-1][1] += 1
            else:
                runs.append([tid, 1])
        schedule = " ".join(f"T{tid}×{count}" for tid, count in runs)
        return self.wrap(f"replay: no command given; the schedule, in runs of steps: {schedule}",
                         indent="  ", first="")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _provenance_text(v: Violation) -> str:
    p = v.provenance
    if "gen_loaded" in p and p.get("slot") is not None:
        parts = [f"#{p['slot']}"]
        if p.get("gen_loaded") is not None:
            parts.append(f"loaded at step {p['load_step']} as g{p['gen_loaded']}")
        if p.get("freed_step") is not None and p.get("freed_by"):
            parts.append(f"freed by {p['freed_by']} at step {p['freed_step']}")
        if p.get("gen_loaded") is not None and p.get("gen_now") != p.get("gen_loaded"):
            parts.append(f"reallocated by {p['allocated_by']} at step {p['allocated_step']} as g{p['gen_now']}")
        parts.append(f"now g{p['gen_now']} {p['state_now']}")
        return "provenance: " + "; ".join(parts)
    if v.kind in ("lost-value", "duplicate-value", "not-linearizable"):
        return ""  # the message already lists the operations
    if p:
        return "provenance: " + ", ".join(f"{k}={_short(k, val)}" for k, val in p.items())
    return ""


SLOT_KEYS = frozenset({"slot", "tail", "chain", "cut_off", "stop"})


def _short(key: str, value: Any) -> str:
    node = (lambda x: f"#{x}") if key in SLOT_KEYS else str
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(node(x) for x in value) + "]"
    return node(value)
