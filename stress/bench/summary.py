"""The figures a benchmark report states, computed from its raw samples.

``summarise`` reduces the samples to medians and spreads per (target,
workload, threads) and the stall runs to their growth; ``headline_figures`` gives
each headline figure with its verdict against the thresholds below. Nothing
here draws or writes: plots.py and markdown.py render these figures.
"""

from __future__ import annotations

import statistics
from typing import Any

from .runner import STALL_THREADS, Results

OURS_TAGGED_PEER = {"tagged": "ck_fifo_mpmc", "hazard": "ck_hp_fifo", "epoch": "urcu_lfq"}
# Peers that are MS96 with our variant's scheme: their ratio to `leaky` is the scheme's cost on
# this machine as a library pays it (urcu_lfq is another algorithm, so it is no reference).
SAME_ALGORITHM_PEER = {"tagged": "ck_fifo_mpmc", "hazard": "ck_hp_fifo"}
# Ours ÷ the library's at or above this: the same cost, within this machine's noise.
PARITY = 0.9
LITERATURE_RATIO = (0.55, 1.0)
LEAKY_TARGET_MOPS = 25.0


def targets(res: Results) -> list[str]:
    """Every target of the run, in report order: our variants, then the peers."""
    return list(res.plan.variants) + list(res.peers_available)


def _group(samples: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for s in samples:
        groups.setdefault((s["target"], s["workload"], s["threads"]), []).append(s)
    return groups


def summarise(res: Results) -> dict[str, Any]:
    """Medians and spreads per (target, workload, threads), and the stall runs."""
    rows = []
    for (target, wl, n), group in sorted(_group(res.samples).items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        mops = [s["mops"] for s in group]
        unrec = [s["unreclaimed_avg"] for s in group if s["unreclaimed_avg"] is not None]
        peak = [s["unreclaimed_peak"] for s in group if s["unreclaimed_peak"] is not None]
        rows.append({
            "target": target, "workload": wl, "threads": n, "reps": len(group),
            "mops_median": statistics.median(mops), "mops_min": min(mops), "mops_max": max(mops),
            "ns_per_op": 1e3 / statistics.median(mops) if statistics.median(mops) > 0 else None,
            "unreclaimed_avg_median": statistics.median(unrec) if unrec else None,
            "unreclaimed_peak_max": max(peak) if peak else None,
            "pool_peak_max": max(s["pool_peak"] for s in group),
            "exhausted_reps": sum(1 for s in group if s["exhausted"]),
            "empties_fraction": (sum(sum(s["empties"]) for s in group)
                                 / max(1, sum(sum(s["empties"]) + s["ops"] for s in group))),
        })
    stall = []
    by_target: dict[str, list[dict[str, Any]]] = {}
    for s in res.stall:
        by_target.setdefault(s["target"], []).append(s)
    for target, group in by_target.items():
        finals, peaks, slopes, exhausted_at = [], [], [], []
        for s in group:
            u, t = s["series"]["unreclaimed"], s["series"]["t"]
            if not u:
                continue
            finals.append(u[-1])
            peaks.append(max(u))
            half = len(u) // 2
            dt = t[-1] - t[half] if len(t) > half else 0
            slopes.append((u[-1] - u[half]) / dt if dt > 0 else 0.0)
            if s["exhausted"]:
                exhausted_at.append(t[-1])
        r = target_options(res, target).get("hp_threshold")
        stall.append({
            "target": target, "reps": len(group), "stalled": all(s.get("stalled") for s in group),
            "final_median": statistics.median(finals) if finals else None,
            "peak_max": max(peaks) if peaks else None,
            "slope_median": statistics.median(slopes) if slopes else None,
            "exhausted_reps": len(exhausted_at),
            "exhausted_at": exhausted_at,
            "mops_median": statistics.median(s["mops"] for s in group),
            "bound": STALL_THREADS * r if r else None,
            "bound_worst": STALL_THREADS * max(r, 2 * STALL_THREADS + 1) if r else None,
        })
    return {"throughput": rows, "stall": stall}


def target_options(res: Results, target: str) -> dict[str, int]:
    return res.target_options.get(target, {})


def row(summary: dict[str, Any], target: str, wl: str, n: int) -> dict[str, Any] | None:
    for r in summary["throughput"]:
        if r["target"] == target and r["workload"] == wl and r["threads"] == n:
            return r
    return None


def stall_row(summary: dict[str, Any], target: str) -> dict[str, Any] | None:
    return next((r for r in summary["stall"] if r["target"] == target), None)


def mops_ratio(summary, a: str, b: str, wl: str, n: int) -> float | None:
    ra, rb = row(summary, a, wl, n), row(summary, b, wl, n)
    if ra and rb and rb["mops_median"] > 0:
        return ra["mops_median"] / rb["mops_median"]
    return None


def headline_figures(res: Results, summary: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, each with its verdict against its threshold."""
    acc: dict[str, Any] = {}
    leaky1 = row(summary, "leaky", "pairs", 1)
    if leaky1:
        acc["leaky_1_thread_mops"] = leaky1["mops_median"]
        acc["leaky_1_thread_ok"] = leaky1["mops_median"] >= LEAKY_TARGET_MOPS
    acc["ratios_vs_leaky_1_thread"] = {}
    for v in ("tagged", "hazard", "epoch", "locked"):
        ratio = mops_ratio(summary, v, "leaky", "pairs", 1)
        if ratio is not None:
            acc["ratios_vs_leaky_1_thread"][v] = {
                "ratio": ratio, "within_literature": LITERATURE_RATIO[0] <= ratio <= LITERATURE_RATIO[1] + 0.05}
            peer = SAME_ALGORITHM_PEER.get(v)
            peer_ratio = mops_ratio(summary, peer, "leaky", "pairs", 1) if peer in res.peers_available else None
            if peer_ratio is not None:
                acc["ratios_vs_leaky_1_thread"][v]["peer"] = {"name": peer, "ratio": peer_ratio}
    acc["ours_vs_peer"] = {}
    for ours, peer in OURS_TAGGED_PEER.items():
        if peer in res.peers_available:
            acc["ours_vs_peer"][f"{ours}/{peer}"] = {
                str(n): mops_ratio(summary, ours, peer, "pairs", n) for n in res.plan.threads}
    st = {r["target"]: r for r in summary["stall"]}
    if "epoch" in st:
        e = st["epoch"]
        acc["stall_epoch_grows"] = bool(e["stalled"] and (e["slope_median"] or 0) > 0 or e["exhausted_reps"])
    if "hazard" in st:
        h = st["hazard"]
        acc["stall_hazard_peak"] = h["peak_max"]
        acc["stall_hazard_bound"] = h["bound"]
        acc["stall_hazard_bounded"] = bool(h["stalled"] and h["peak_max"] is not None and h["bound"]
                                           and h["peak_max"] <= h["bound"])
        acc["stall_hazard_within_worst_case"] = bool(h["peak_max"] is not None and h["bound_worst"]
                                                     and h["peak_max"] <= h["bound_worst"])
    return acc

