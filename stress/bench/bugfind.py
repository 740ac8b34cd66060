"""``lfstress bench --search``: how fast each scheduler finds the built-in bugs.

For every variant that a scenario file under scenarios/ marks ``expect =
"bug"``, and for every scheduler, explore the variant from N seeds (``S =
0, 1_000_003, 2_000_006, ...``; ``exhaustive`` is deterministic: one run)
until the first execution with a violation of one of the variant's known
kinds, every check on, no shrinking, capped per seed. Record executions and
seconds to that first violation. ``first_violation_runs`` makes the per-seed
runs (tests/benchmarks/search.py uses it too); this module also picks the
targets and writes the report: report.md, report.json (every run) and bug_finding.png.

Scenarios whose programs are drawn at random (``[threads.generate]``) are
left out: there the time to a bug depends on the program drawn as much as
on the scheduler (``lfstress run`` searches them round by round).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import ENGINE_KINDS
from ..search import explore
from ..schedulers import NATIVE_SCHEDULERS
from ..scenario import discover, load
from .machine import build_flags, machine_info, machine_markdown

POLICIES = ("random", "pct", "urw", "exhaustive", "hypothesis")
SEED_STRIDE = 1_000_003
PLOT = "bug_finding.png"


@dataclass(frozen=True)
class SearchPlan:
    seeds: int = 20
    cap_seconds: float = 5.0      # per seed and scheduler
    schedulers: tuple[str, ...] = POLICIES
    native: bool = True           # also random and pct on the native fast path
    scenarios: tuple[str, ...] = ("scenarios",)
    quick: bool = False


FULL = SearchPlan(seeds=20, cap_seconds=5.0)
QUICK = SearchPlan(seeds=3, cap_seconds=1.0, quick=True)


def bug_items(paths: tuple[str, ...]) -> tuple[list[tuple[Any, Any]], list[dict[str, str]]]:
    """(scenario, plan) for every ``bug`` variant, and what was left out, why."""
    items, skipped = [], []
    for path in discover(list(paths)):
        scenario = load(path)
        for plan in scenario.variants:
            if plan.expect != "bug":
                continue
            if scenario.generator is not None:
                skipped.append({"item": f"{path.name}::{plan.name}",
                                "why": "programs drawn at random ([threads.generate])"})
                continue
            items.append((scenario, plan))
    return items, skipped


def _runs(plan: SearchPlan) -> list[tuple[str, bool]]:
    runs = [(name, False) for name in plan.schedulers]
    if plan.native:
        runs += [(name, True) for name in plan.schedulers if name in NATIVE_SCHEDULERS]
    return runs


def run(plan: SearchPlan, *, progress: bool | None = None) -> dict[str, Any]:
    from .runner import Progress

    items, skipped = bug_items(plan.scenarios)
    runs = _runs(plan)
    bar = Progress(len(items) * len(runs), progress)
    started = time.time()
    rows = []
    for scenario, vplan in items:
        target = scenario.target(vplan.name)
        for name, native in runs:
            # The native path sees the engine's kinds only (the others need the full checks):
            # a bug none of whose kinds the engine sees is not its to find.
            if native and not set(vplan.kinds) & ENGINE_KINDS:
                rows.append({"scheduler": name, "path": "native", "scenario": scenario.path.name,
                             "variant": vplan.name, "structure": f"{scenario.structure}/{vplan.variant}",
                             "kinds": list(vplan.kinds), "seeds": 0, "found": 0, "missed": 0, "runs": [],
                             "not_applicable": "its kinds are seen by the full checks only"})
                bar.advance(1, f"{scenario.path.stem}::{vplan.name} {name} native: n/a")
                continue
            raw = first_violation_runs(target, name, native=native, seeds=plan.seeds,
                                       cap_seconds=plan.cap_seconds, depth=vplan.search.depth,
                                       kinds=vplan.kinds)
            row = first_violation_row(name, native, raw)
            row.update({"scenario": scenario.path.name, "variant": vplan.name,
                        "structure": f"{scenario.structure}/{vplan.variant}",
                        "kinds": list(vplan.kinds), "runs": raw})
            rows.append(row)
            bar.advance(1, f"{scenario.path.stem}::{vplan.name} {name}{' native' if native else ''}")
    bar.close()
    return {"plan": {"seeds": plan.seeds, "cap_seconds": plan.cap_seconds, "schedulers": list(plan.schedulers),
                     "native": plan.native, "scenarios": list(plan.scenarios), "quick": plan.quick,
                     "seed_stride": SEED_STRIDE},
            "started": started, "finished": time.time(),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "skipped": skipped, "rows": rows}


def first_violation_runs(target, name: str, *, native: bool = False, seeds: int = 20,
                         cap_seconds: float, depth: int = 3,
                         kinds=None) -> list[dict]:
    """One explore per seed (``exhaustive``: one run, it is deterministic),
    every check on, no shrinking: a raw record per run. ``kinds``: only a
    violation of one of these counts (a scenario's known bug)."""
    runs = []
    for i in range(1 if name == "exhaustive" else seeds):
        result = explore(target, name, seed=i * SEED_STRIDE, executions=10_000_000,
                         seconds=cap_seconds, native=native, shrink=False, depth=depth, kinds=kinds)
        run = {"seed": i * SEED_STRIDE, "found": result.failure is not None,
               "executions": result.stats.executions, "seconds": result.stats.seconds}
        if result.failure is not None:
            run.update({"executions_to_first": result.stats.first_violation_execution,
                        "seconds_to_first": result.stats.first_violation_seconds,
                        "kinds": sorted(result.failure.result.kinds)})
        runs.append(run)
    return runs


def first_violation_row(name: str, native: bool, runs: list[dict]) -> dict:
    """Median, min and max over the runs that found a violation."""
    found = [r for r in runs if r["found"]]
    row = {"scheduler": name, "path": "native" if native else "python+checks",
           "seeds": len(runs), "found": len(found), "missed": len(runs) - len(found)}
    if found:
        executions = [r["executions_to_first"] for r in found]
        secs = [r["seconds_to_first"] for r in found]
        row.update({
            "executions_median": statistics.median(executions), "executions_min": min(executions),
            "executions_max": max(executions), "seconds_median": statistics.median(secs),
            "seconds_min": min(secs), "seconds_max": max(secs),
        })
    return row


# ---------------------------------------------------------------- report

def _label(row: dict[str, Any]) -> str:
    return row["scheduler"] + (" (native)" if row["path"] == "native" else "")


def _item(row: dict[str, Any]) -> str:
    return f"{row['scenario'].removesuffix('.toml')}::{row['variant']}"


def _fmt_range(row: dict[str, Any], key: str, fmt: str) -> str:
    if not row["found"]:
        return "–"
    if row["seeds"] == 1:
        return format(row[f"{key}_median"], fmt)
    return (f"{format(row[f'{key}_median'], fmt)} ({format(row[f'{key}_min'], fmt)} – "
            f"{format(row[f'{key}_max'], fmt)})")


def plot(result: dict[str, Any], out: Path) -> Path:
    from .plots import pyplot, save

    plt = pyplot()
    rows = result["rows"]
    items = list(dict.fromkeys(_item(r) for r in rows))
    labels = list(dict.fromkeys(_label(r) for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(14.5, 0.55 * len(items) * len(labels) / 3 + 2.5), sharey=True)
    height = 0.8 / len(labels)
    colours = plt.get_cmap("tab10")
    for ax, key, title in ((axes[0], "executions", "executions to the first violation"),
                           (axes[1], "seconds", "seconds to the first violation")):
        for j, label in enumerate(labels):
            ys, med, lo, hi, missing = [], [], [], [], []
            for i, item in enumerate(items):
                r = next((r for r in rows if _item(r) == item and _label(r) == label), None)
                if r is None or r.get("not_applicable"):
                    continue
                y = i + (j - (len(labels) - 1) / 2) * height
                if not r["found"]:
                    missing.append(y)
                    continue
                ys.append(y)
                m = max(r[f"{key}_median"], 1e-4)
                med.append(m)
                lo.append(m - max(r[f"{key}_min"], 1e-4))
                hi.append(max(r[f"{key}_max"], 1e-4) - m)
            ax.barh(ys, med, height=height, xerr=[lo, hi], color=colours(j), label=label,
                    error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#444"})
            for y in missing:  # x in axes coordinates: at the left edge whatever the scale
                ax.text(0.01, y, "not found", transform=ax.get_yaxis_transform(), va="center",
                        fontsize=6, color=colours(j))
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", which="both", alpha=0.3)
    axes[0].set_yticks(range(len(items)))
    axes[0].set_yticklabels(items, fontsize=8)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # beside: hides no bar
    fig.suptitle(f"Built-in bugs: median over {result['plan']['seeds']} seeds (bars: min–max); "
                 "every check on, no shrinking", fontsize=10)
    return save(fig, out / PLOT, rect=(0, 0, 1, 0.97))


def write(result: dict[str, Any], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    result = {"machine": {**info, "build_flags": f"stepped build: {build_flags('stepped')}"}, **result}
    paths: dict[str, Path] = {}
    plot_error = None
    try:
        paths["plot"] = plot(result, out)
    except ImportError:
        plot_error = "matplotlib cannot be imported (an lfstress dependency): pip install matplotlib"
    (out / "report.json").write_text(json.dumps(result, indent=1) + "\n")
    paths["json"] = out / "report.json"
    (out / "report.md").write_text(_markdown(result, plot_error))
    paths["md"] = out / "report.md"
    return paths


def _observations(result: dict[str, Any]) -> list[str]:
    rows = result["rows"]
    obs = []
    by_label: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if not r.get("not_applicable"):
            by_label.setdefault(_label(r), []).append(r)
    items = list(dict.fromkeys(_item(r) for r in rows))
    parts = []
    for label, rs in by_label.items():
        found_items = sum(1 for r in rs if r["found"] == r["seeds"])
        parts.append(f"`{label}` {found_items}/{len(rs)}")
    obs.append(f"**Found from every seed, per scheduler** (bugs found / bugs it can see, of {len(items)}): "
               + ", ".join(parts) + ".")
    fastest = []
    for item in items:
        rs = [r for r in rows if _item(r) == item and r["found"] == r["seeds"] and r["path"] != "native"]
        if rs:
            best = min(rs, key=lambda r: r["seconds_median"])
            fastest.append(best["scheduler"])
    if fastest:
        counts = {s: fastest.count(s) for s in dict.fromkeys(fastest)}
        obs.append("**Fastest with every check on** (median seconds, among schedulers that found the bug from "
                   "every seed): " + ", ".join(f"`{s}` on {n}" for s, n in
                                               sorted(counts.items(), key=lambda kv: -kv[1]))
                   + f" of {len(fastest)} bugs.")
    misses = [f"`{r['scheduler']}{' (native)' if r['path'] == 'native' else ''}` on {_item(r)} "
              f"({r['missed']}/{r['seeds']})" for r in rows if r["missed"]]
    if misses:
        obs.append(f"**Missed within {result['plan']['cap_seconds']:g} s** (seeds without a violation of a known "
                   "kind, of seeds run): " + "; ".join(misses) + ".")
    else:
        obs.append(f"No scheduler missed any bug from any seed within {result['plan']['cap_seconds']:g} s.")
    obs.append("The native fast path (random, pct: whole executions in C) checks each execution with the "
               "engine's own checks only and pays the full checks on the schedule it stops at, so its seconds "
               "are the raw-volume figure, and it is blind to bugs seen only by the full checks (`n/a`: "
               "lost values, severed queues, leaks); it stops at the wanted kinds it sees and walks past "
               "engine violations of other kinds; the `python+checks` rows "
               "are what `lfstress run` and `lfstress explore` do by default. `exhaustive` tries schedules "
               "with the fewest preemptions first: one run, the same every time, and the minimum number of "
               "preemptions the bug needs decides how soon it gets there.")
    return obs


def _markdown(result: dict[str, Any], plot_error: str | None) -> str:
    p = result["plan"]
    m = result["machine"]
    L = ["# Bug finding: executions and seconds to the first violation"
         + (" (quick)" if p["quick"] else ""), ""]
    L.append("Every built-in scenario variant that is expected to fail (`expect = \"bug\"`), searched by "
             "each scheduler from many seeds. Generated by `lfstress bench --search"
             + (" --quick" if p["quick"] else "") + "`; every run is in `report.json`.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append(machine_markdown({k: v for k, v in m.items() if k != "build_flags"}))
    L.append(f"- build: {m['build_flags']}")
    L.append(f"- load average at the end: {', '.join(map(str, result['loadavg']))} — {os.cpu_count()} cores, "
             "shared with other work: the seconds are noisy (the executions are not: they depend only on "
             "the seed)")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(f"- Bugs: every `expect = \"bug\"` variant of the scenario files in "
             f"{', '.join(f'`{s}/`' for s in p['scenarios'])}, with the file's programs, initial state, "
             "options and step cap; PCT with the file's depth.")
    L.append(f"- Seeds: {p['seeds']} per scheduler, S = 0, {p['seed_stride']:,}, {2 * p['seed_stride']:,}, … "
             "(`explore(target, scheduler, seed=S)` runs executions S, S+1, … until the first failure); "
             "`exhaustive` is deterministic: one run.")
    L.append(f"- A failure counts only with a violation of one of the variant's known kinds (the file's "
             f"`kinds`); every check on, no shrinking; capped at {p['cap_seconds']:g} s per seed — a seed "
             "that reaches the cap is a miss. Seconds include building the execution (and PCT's "
             "estimate of k).")
    if p["native"]:
        L.append("- `(native)`: random and pct on the native fast path (native/engine/search.c: identical choices, "
                 "engine checks per execution, every check on the failing one).")
    if result["skipped"]:
        L.append("- Left out: " + "; ".join(f"`{s['item']}` — {s['why']}" for s in result["skipped"])
                 + " (the time to a bug there depends on the program drawn as much as on the scheduler).")
    L.append("")
    L.append("## What the figures say")
    L.append("")
    for o in _observations(result):
        L.append(o)
        L.append("")
    L.append("## Executions to the first violation (median (min – max))")
    L.append("")
    labels = list(dict.fromkeys(_label(r) for r in result["rows"]))
    items = list(dict.fromkeys(_item(r) for r in result["rows"]))

    def table(key: str, fmt: str) -> list[str]:
        T = ["| bug | known kinds | " + " | ".join(labels) + " |", "|---" * (len(labels) + 2) + "|"]
        for item in items:
            rs = {_label(r): r for r in result["rows"] if _item(r) == item}
            any_row = next(iter(rs.values()))
            cells = []
            for label in labels:
                r = rs.get(label)
                if r is None:
                    cells.append("")
                    continue
                if r.get("not_applicable"):
                    cells.append("n/a")
                    continue
                cell = _fmt_range(r, key, fmt)
                if r["missed"]:
                    cell += f" · missed {r['missed']}/{r['seeds']}"
                cells.append(cell)
            T.append(f"| {item} | {', '.join(any_row['kinds'])} | " + " | ".join(cells) + " |")
        return T

    L.extend(table("executions", ",.0f"))
    L.append("")
    L.append("## Seconds to the first violation (median (min – max))")
    L.append("")
    L.extend(table("seconds", ".3f"))
    L.append("")
    L.append(f"![bug finding]({PLOT})")
    L.append("")
    if plot_error:
        L.append(f"> Plot missing: {plot_error}")
        L.append("")
    return "\n".join(L)
