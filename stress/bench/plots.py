"""The benchmark report's plots (matplotlib, written as PNG).

Each series has a style of its own (``style``), and every legend sits outside
the axes, so that it hides no data point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .machine import CORES
from .runner import STALL_THREADS, Results
from .summary import LITERATURE_RATIO, row, targets

PLOTS = ("throughput.png", "throughput_normalised.png", "unreclaimed.png", "stall.png")

# Every series has a colour of its own. A peer is drawn dashed with hollow square markers, in a
# hue next to that of our variant with the same scheme (blue/cyan, red/orange, green/olive): the two
# implementations of a scheme read as a pair, and never as one.
_COLOURS = {
    "leaky": "#7f7f7f", "tagged": "#1f77b4", "hazard": "#d62728", "epoch": "#2ca02c", "locked": "#9467bd",
    "naive": "#e377c2",
    "ck_fifo_mpmc": "#17becf", "ck_hp_fifo": "#ff7f0e", "urcu_lfq": "#808000",
}
_PEERS = ("ck_fifo_mpmc", "ck_hp_fifo", "urcu_lfq")
# Targets of no known scheme (a user's structure) take these in turn, after the named ones.
_SPARE_COLOURS = ("#8c564b", "#000080", "#b8860b", "#008b8b", "#8b008b", "#000000")


def style(target: str, others: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Line style of a target's series (matplotlib keyword arguments). ``others``: every
    target of the plot, so that unnamed ones get spare colours in a fixed order."""
    if target in _COLOURS:
        colour = _COLOURS[target]
    else:
        unnamed = [t for t in dict.fromkeys(others or (target,)) if t not in _COLOURS]
        index = unnamed.index(target) if target in unnamed else 0
        colour = _SPARE_COLOURS[index % len(_SPARE_COLOURS)]
    if target in _PEERS:
        return {"color": colour, "ls": "--", "marker": "s", "mfc": "white"}
    return {"color": colour, "ls": "-", "marker": "o", "mfc": colour}


def _legend_beside(ax, **kw) -> None:
    """The legend to the right of the axes, where it hides no data point."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kw)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path, **layout) -> Path:
    """Lay out, write as PNG (every plot of every report at the same resolution), release."""
    fig.tight_layout(**layout)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def _shade_oversubscribed(ax, threads: list[int]) -> None:
    if threads and max(threads) > CORES:
        ax.axvspan(CORES * 1.25, max(threads) * 1.15, color="#f4e3c1", alpha=0.5, lw=0)
        ax.text(CORES * 1.3, ax.get_ylim()[1], f"oversubscribed\n(> {CORES} cores)",
                va="top", ha="left", fontsize=7, color="#8a6d3b")


def plot_throughput(res: Results, summary: dict[str, Any], out: Path, *, normalised: bool) -> Path:
    plt = pyplot()
    wls = list(res.plan.workloads)
    fig, axes = plt.subplots(1, len(wls), figsize=(4.6 * len(wls), 5.0), squeeze=False)
    for ax, wl in zip(axes[0], wls):
        for target in targets(res):
            xs, ys, lo, hi = [], [], [], []
            for n in res.plan.threads:
                r = row(summary, target, wl, n)
                base = row(summary, "leaky", wl, n) if normalised else None
                if r is None or (normalised and (base is None or base["mops_median"] <= 0)):
                    continue
                div = base["mops_median"] if normalised else 1.0
                xs.append(n)
                ys.append(r["mops_median"] / div)
                lo.append((r["mops_median"] - r["mops_min"]) / div)
                hi.append((r["mops_max"] - r["mops_median"]) / div)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], label=target, ms=4, capsize=3, lw=1.4,
                            **style(target, targets(res)))
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(res.plan.threads), [str(n) for n in res.plan.threads])
        ax.set_xlabel("threads")
        ax.set_title(wl)
        if normalised:
            ax.axhline(1.0, color="#7f7f7f", lw=0.8)
            ax.axhspan(*LITERATURE_RATIO, color="#dfeedd", alpha=0.5, lw=0,
                       label=f"published range for a reclamation scheme, {LITERATURE_RATIO[0]:g}–"
                             f"{LITERATURE_RATIO[1]:g}× leaky")
            ax.set_ylabel("throughput / leaky (median)")
        else:
            ax.set_ylabel("Mops/s (median, bars: min–max)")
        ax.set_ylim(bottom=0)
        _shade_oversubscribed(ax, list(res.plan.threads))
        ax.grid(alpha=0.3)
    legend: dict[str, Any] = {}  # label -> handle, over every panel (a workload may lack a target)
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    # Below the panels, outside every axes: it hides no data point.
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=min(len(legend), 5), fontsize=7,
               frameon=False)
    fig.suptitle("MS queue throughput by reclamation scheme" + (" — normalised to leaky" if normalised else "")
                 + f" ({res.plan.reps} reps × {res.plan.seconds:g} s)", fontsize=10)
    rows = -(-len(legend) // 5)
    return save(fig, out / ("throughput_normalised.png" if normalised else "throughput.png"),
                rect=(0, 0.045 * rows + 0.02, 1, 0.96))


def plot_unreclaimed(res: Results, summary: dict[str, Any], out: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.2, 4.6))
    wl = "pairs" if "pairs" in res.plan.workloads else res.plan.workloads[0]
    drawn = False
    for target in targets(res):
        xs, avg, peak = [], [], []
        for n in res.plan.threads:
            r = row(summary, target, wl, n)
            if r and r["unreclaimed_avg_median"] and r["unreclaimed_peak_max"]:
                xs.append(n)
                avg.append(r["unreclaimed_avg_median"])
                peak.append(r["unreclaimed_peak_max"])
        if xs:
            line = style(target, targets(res))
            ax.plot(xs, avg, ms=4, label=f"{target} (average)", **line)
            ax.plot(xs, peak, color=line["color"], ls="none", marker="^", mfc=line["mfc"], ms=5,
                    label=f"{target} (peak)")
            drawn = True
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(res.plan.threads), [str(n) for n in res.plan.threads])
    ax.set_xlabel("threads")
    ax.set_ylabel("retired but unreclaimed nodes")
    if not drawn:
        ax.text(0.5, 0.5, "no scheme with deferred reclamation ran", transform=ax.transAxes, ha="center")
    _shade_oversubscribed(ax, list(res.plan.threads))
    ax.set_title(f"Retired-but-unreclaimed nodes ({wl}); tagged, locked, ck_fifo_mpmc free at once (0),\n"
                 "leaky retires every node and never frees", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    if drawn:
        _legend_beside(ax)
    return save(fig, out / "unreclaimed.png")


def plot_stall(res: Results, summary: dict[str, Any], out: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    seen: set[str] = set()
    stalled = list(dict.fromkeys(s["target"] for s in res.stall))
    for s in res.stall:
        target = s["target"]
        t, u = s["series"]["t"], s["series"]["unreclaimed"]
        if not t or not s.get("stalled"):
            continue
        line = style(target, stalled)
        ax.plot(t, [max(v, 0.8) for v in u], color=line["color"], ls=line["ls"], lw=1.2, alpha=0.85,
                label=target if target not in seen else None)
        if s["exhausted"]:
            ax.plot([t[-1]], [max(u[-1], 0.8)], marker="x", color=line["color"], ms=8)
        seen.add(target)
    bounds: dict[int, list[str]] = {}
    for r in summary["stall"]:
        if r["bound"] and r["target"] in seen:
            bounds.setdefault(r["bound"], []).append(r["target"])
    for bound, names in bounds.items():
        colour = style(names[0], stalled)["color"]
        ax.axhline(bound, color=colour, lw=0.8, ls=":")
        ax.text(0.01, bound * 1.2, f"N·R = {STALL_THREADS}·{bound // STALL_THREADS} = {bound} "
                f"({', '.join(names)})", color=colour, fontsize=7, transform=ax.get_yaxis_transform())
    ax.set_yscale("log")
    ax.set_xlabel("seconds since the threads started")
    ax.set_ylabel("retired but unreclaimed nodes")
    ax.set_title(f"One of {STALL_THREADS} threads stalled inside an operation (holding its hazard / epoch / "
                 "RCU read lock);\n× = the pool ran out and the run ended", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    if seen:
        _legend_beside(ax)
    else:
        ax.text(0.5, 0.5, "no stall run", transform=ax.transAxes, ha="center")
    return save(fig, out / "stall.png")

