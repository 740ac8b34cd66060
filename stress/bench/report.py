"""The benchmark report directory: report.json (every raw sample), report.md, the plots.

``write`` computes the figures (summary.py), draws them (plots.py) and
renders the text (markdown.py); ``load`` reads a report.json back into the
Results it came from, so a report can be rendered again without measuring.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from .._version import __version__
from . import markdown, plots
from .machine import bench_machine
from .runner import Plan, Results, plan_dict
from .summary import headline_figures, summarise


def load(path: Path) -> Results:
    """The Results behind a report.json, to render the report again."""
    data = json.loads(Path(path).read_text())
    names = {f.name for f in fields(Plan)}
    plan = Plan(**{k: tuple(v) if isinstance(v, list) else v for k, v in data["plan"].items() if k in names})
    return Results(plan, samples=data["samples"], stall=data["stall"],
                   peers_available=tuple(data["peers"]["available"]), peers_missing=data["peers"]["missing"],
                   peer_flags=tuple(data["peers"]["flags"]), target_options=data["target_options"],
                   started=data["started"], finished=data["finished"],
                   loadavg_before=tuple(data["loadavg_before"]), loadavg_after=tuple(data["loadavg_after"]),
                   cache=data.get("cache", {}), machine=data["machine"], source=str(path))


def write(res: Results, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(res)
    acc = headline_figures(res, summary)
    mach = res.machine or bench_machine()  # results made by hand record no machine
    paths: dict[str, Path] = {}
    try:
        paths["throughput"] = plots.plot_throughput(res, summary, out, normalised=False)
        paths["throughput_normalised"] = plots.plot_throughput(res, summary, out, normalised=True)
        paths["unreclaimed"] = plots.plot_unreclaimed(res, summary, out)
        paths["stall"] = plots.plot_stall(res, summary, out)
        plot_error = None
    except ImportError:
        plot_error = "matplotlib cannot be imported (an lfstress dependency): pip install matplotlib"

    data = {
        "lfstress": __version__,
        "machine": mach,
        "plan": plan_dict(res.plan),
        "started": res.started,
        "finished": res.finished,
        "loadavg_before": res.loadavg_before,
        "loadavg_after": res.loadavg_after,
        "peers": {"available": list(res.peers_available), "missing": res.peers_missing,
                  "flags": list(res.peer_flags)},
        "target_options": res.target_options,
        "summary": summary,
        "headline": acc,
        "samples": res.samples,
        "stall": res.stall,
        "cache": res.cache,
    }
    (out / "report.json").write_text(json.dumps(data, indent=1) + "\n")
    paths["json"] = out / "report.json"
    (out / "report.md").write_text(markdown.render(res, summary, acc, mach, plot_error))
    paths["md"] = out / "report.md"
    return paths

