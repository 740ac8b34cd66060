"""The benchmark report in Markdown: machine, method, figures, what they say.

Every sentence is generated from the figures (summary.py), so a figure that
misses its target says so, and the text never claims what the run did not
measure.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone
from typing import Any

from .._version import __version__
from .coldcache import CONTROL
from .machine import CORES
from .peers import PACKAGE, PEER_LIBRARY
from .runner import STALL_THREADS, Results, stallable
from .summary import (LEAKY_TARGET_MOPS, LITERATURE_RATIO, PARITY, mops_ratio, row, stall_row, target_options,
                      targets)

def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def _thread_header(threads: tuple[int, ...]) -> str:
    return " | ".join(f"{n} thr" + (" ⚠" if n > CORES else "") for n in threads)


def _oversub_note(threads: tuple[int, ...]) -> str:
    if any(n > CORES for n in threads):
        return (f"\n⚠ = oversubscribed: this machine has {CORES} cores, so past {CORES} threads the OS "
                "time-slices them; a thread preempted inside an operation holds everyone up, which is "
                "exactly what lock-free progress and reclamation schemes are judged on.\n")
    return ""


def _peer_packages(res: Results, mach: dict[str, Any]) -> str:
    """The peers' packages with the versions dpkg knows (none where it knows none)."""
    packages = dict.fromkeys(PACKAGE[PEER_LIBRARY[name]] for name in res.peers_available)
    known = [f"{name} {mach[name]}" for name in packages if mach.get(name)]
    text = f"; {', '.join(known)}" if known else ""
    if "urcu_lfq" in res.peers_available:
        text += " (liburcu: the memb flavour, with `_LGPL_SOURCE`'s inline fast paths)"
    return text


def _target_table(res: Results, title: str, threads: tuple[int, ...], cell) -> list[str]:
    """A row per target, a column per thread count; ``cell(target, n)`` fills it."""
    lines = [f"| {title} | " + _thread_header(threads) + " |", "|---" * (len(threads) + 1) + "|"]
    for target in targets(res):
        lines.append(f"| {target} | " + " | ".join(cell(target, n) for n in threads) + " |")
    return lines


def _workload_threads(res: Results, wl: str) -> tuple[int, ...]:
    """The thread counts a workload ran at (producer-consumer needs two)."""
    return tuple(n for n in res.plan.threads if not (wl == "producer-consumer" and n < 2))


def _throughput_table(res: Results, summary: dict[str, Any], wl: str) -> list[str]:
    def cell(target: str, n: int) -> str:
        r = row(summary, target, wl, n)
        if r is None:
            return "—"
        mark = " †" if r["exhausted_reps"] else ""
        return f"{_fmt(r['mops_median'])} [{_fmt(r['mops_min'])}–{_fmt(r['mops_max'])}]{mark}"

    return _target_table(res, wl, _workload_threads(res, wl), cell)


def _ratio_table(res: Results, summary: dict[str, Any], wl: str) -> list[str]:
    def cell(target: str, n: int) -> str:
        ratio = mops_ratio(summary, target, "leaky", wl, n)
        return "—" if ratio is None else f"{ratio:.2f}×"

    return _target_table(res, f"{wl} ÷ leaky", _workload_threads(res, wl), cell)


def _memory_table(res: Results, summary: dict[str, Any], wl: str) -> list[str]:
    def cell(target: str, n: int) -> str:
        r = row(summary, target, wl, n)
        if r is None:
            return "—"
        return f"{_fmt(r['unreclaimed_avg_median'])} / {_fmt(r['unreclaimed_peak_max'], 0)} · {r['pool_peak_max']:,}"

    return _target_table(res, f"{wl}: unreclaimed avg / peak · pool peak", res.plan.threads, cell)


def _observations(res: Results, summary: dict[str, Any], acc: dict[str, Any]) -> list[str]:
    obs = []
    if "leaky_1_thread_mops" in acc:
        m = acc["leaky_1_thread_mops"]
        obs.append(f"**Baseline.** `leaky` does {m:.1f} Mops/s on one thread ({_fmt(1e3 / m if m else None)} ns "
                   "per operation), "
                   + ("above" if acc["leaky_1_thread_ok"] else "**below**")
                   + f" the {LEAKY_TARGET_MOPS:g} Mops/s target. It never frees, so every enqueue takes a fresh "
                     "node: it measures the algorithm with reclamation costing nothing.")
    ratios = acc.get("ratios_vs_leaky_1_thread", {})
    if ratios:
        parts = [f"`{v}` {r['ratio']:.2f}×" for v, r in ratios.items()]
        schemes = [v for v in ratios if v != "locked"]
        below = [v for v in schemes if ratios[v]["ratio"] < LITERATURE_RATIO[0]]
        above = [v for v in schemes if ratios[v]["ratio"] > LITERATURE_RATIO[1] + 0.05]
        text = ("**What safety costs, one thread.** Against `leaky`: " + ", ".join(parts)
                + f" (the literature reports roughly {LITERATURE_RATIO[0]}–{LITERATURE_RATIO[1]}× for tagged "
                  "pointers, hazard pointers and epochs). ")
        if below:
            text += ("Below that range: " + ", ".join(f"`{v}`" for v in below) + ". ")
            for v in below:
                p = ratios[v].get("peer")
                if not p:
                    continue
                text += (f"The library's `{v}` queue, `{p['name']}`, in the same run on a pool built the "
                         f"same way: {p['ratio']:.2f}× of `leaky`")
                if ratios[v]["ratio"] >= PARITY * p["ratio"]:
                    text += (" — on this machine that is what the scheme costs against a "
                             f"{_fmt(1e3 / acc['leaky_1_thread_mops'])} ns operation, not something our "
                             "implementation adds. ")
                else:
                    text += (f" — ours trails it ({ratios[v]['ratio'] / p['ratio']:.2f}×): the gap is "
                             "ours to close. ")
        if above:
            text += ("Above it: " + ", ".join(f"`{v}`" for v in above) + " — faster than the baseline"
                     + (" (the reuse control below says whether fresh memory is what `leaky` pays). "
                        if row(summary, CONTROL, "pairs", 1) else ". "))
        if not below and not above:
            text += "All within range. "
        if "hazard" in ratios or "epoch" in ratios:
            text += ("What `hazard` and `epoch` pay is fences: `hazard` publishes a hazard with a seq_cst fence "
                     "(a full barrier: a locked instruction or `mfence` on x86-64, a few ns) once per enqueue and twice per dequeue and scans every R = "
                     f"{target_options(res, 'hazard').get('hp_threshold', '?')} retires; `epoch` fences on "
                     "every critical-section entry (two per enqueue/dequeue pair) and tries to advance the "
                     "epoch every few retires. `locked` is fastest alone: an uncontended lock is one CAS "
                     "and a store, fewer atomics than MS96's three CASes; it is the first to fall when threads "
                     "contend or get preempted holding the lock.")
        obs.append(text)
    peer_bits = []
    for key, by_n in acc.get("ours_vs_peer", {}).items():
        ours, peer = key.split("/")
        vals = [f"{n} thr {v:.2f}×" for n, v in by_n.items() if v is not None]
        if vals:
            peer_bits.append(f"`{ours}` ÷ `{peer}`: " + ", ".join(vals))
    if peer_bits:
        obs.append("**Against the libraries, same run, same driver, same node pool design.** "
                   + "; ".join(peer_bits) + ". Above 1× we are faster. `urcu_lfq` is not MS96 with epochs "
                   "but RCU with a separate callback thread, so its row compares schemes, not implementations.")
    missing = {p: why for p, why in res.peers_missing.items()}
    if missing:
        obs.append("**Peers missing:** " + "; ".join(f"`{p}` {why}" for p, why in missing.items()) + ".")
    multi = [n for n in res.plan.threads if n > 1]
    if multi and "leaky" in res.plan.variants:
        n = multi[0]
        drops = []
        for target in targets(res):
            a, b = row(summary, target, "pairs", 1), row(summary, target, "pairs", n)
            if a and b and a["mops_median"] > 0:
                drops.append(f"`{target}` {b['mops_median'] / a['mops_median']:.2f}×")
        if drops:
            obs.append(f"**Contention.** From 1 to {n} threads (pairs), throughput changes by: "
                       + ", ".join(drops) + ". Every operation on the shared head or tail moves a cache line "
                       "between the cores, and on two cores the threads also share them with the sampling "
                       "main thread.")
            obs.append(_other_work(res, multi))
    if any(n > CORES for n in res.plan.threads):
        ep = [row(summary, "epoch", "pairs", n) for n in res.plan.threads if n > CORES]
        hz = [row(summary, "hazard", "pairs", n) for n in res.plan.threads if n > CORES]
        if all(ep) and all(hz):
            obs.append(f"**Oversubscribed ({', '.join(str(n) for n in res.plan.threads if n > CORES)} threads "
                       f"on {CORES} cores).** A preempted thread inside a critical section pins the global "
                       "epoch for a whole time slice: `epoch`'s unreclaimed count climbs to "
                       f"{_fmt(max(r['unreclaimed_peak_max'] or 0 for r in ep), 0)} (peak) while `hazard` "
                       f"stays at {_fmt(max(r['unreclaimed_peak_max'] or 0 for r in hz), 0)}.")
    st = {r["target"]: r for r in summary["stall"]}
    if st:
        bits = []
        for target, r in st.items():
            if not r["stalled"]:
                continue
            if r["exhausted_reps"]:
                bits.append(f"`{target}` grew until its {res.plan.stall_capacity:,}-node pool ran out "
                            f"(after {statistics.median(r['exhausted_at']):.2f} s)")
            elif (r["slope_median"] or 0) > 1 and (r["final_median"] or 0) > (r["bound"] or 0) * 4:
                bits.append(f"`{target}` grew to {_fmt(r['final_median'], 0)} and was still growing at "
                            f"{_fmt(r['slope_median'], 0)} nodes/s at the end")
            else:
                bound = f" (N·R = {r['bound']})" if r["bound"] else ""
                bits.append(f"`{target}` stayed flat: peak {_fmt(r['peak_max'], 0)}{bound}")
        obs.append("**Stalled thread.** " + "; ".join(bits) + ". Epochs and RCU wait for every thread to "
                   "leave its critical section, so one thread that never does stops all reclamation; a hazard "
                   "pointer protects one node, so the others keep reclaiming and garbage stays bounded.")
        obs.extend(_epoch_while_stalled(summary))
    return obs


# `epoch` stalled below this fraction of its rate running free: reclaiming costs more as garbage grows.
EPOCH_STALL_SLOWDOWN = 0.25


def _epoch_while_stalled(summary: dict[str, Any]) -> list[str]:
    """Does an attempt to reclaim under `epoch` cost more as the garbage grows? Its rate
    with a thread stalled, against its rate running free, says."""
    e, h = stall_row(summary, "epoch"), stall_row(summary, "hazard")
    free_run = row(summary, "epoch", "pairs", 2) or row(summary, "epoch", "pairs", 1)
    if not (e and e["stalled"] and e["mops_median"] is not None):
        return []
    beside = f" (`hazard`, stalled too: {h['mops_median']:.2f})" if h and h["mops_median"] else ""
    if free_run and e["mops_median"] < EPOCH_STALL_SLOWDOWN * free_run["mops_median"]:
        return [f"While stalled, `epoch` slows to {e['mops_median']:.2f} Mops/s{beside}, against "
                f"{free_run['mops_median']:.1f} running free: reclaiming costs more as the garbage grows. "
                "Each attempt should stop at the first node retired too recently (`lfs_reclaim_oldest`, "
                "native/reclaim/epoch.c); check that it does."]
    return [f"While stalled, `epoch` still does {e['mops_median']:.2f} Mops/s{beside}: garbage grows, but "
            "an attempt to reclaim stops at the first node retired too recently (stamps never decrease "
            "along a thread's retired list, so the nodes old enough to free are a prefix of it), so its "
            "cost does not grow with the garbage."]


REUSE_SECTION = "## Reuse control: a fresh node against a reused one, one thread"
# control ÷ leaky beyond this either way: fresh memory costs (or pays) measurably.
REUSE_NOTICEABLE = 0.15


# Other work holding this many cores, in the median multi-thread point, makes it a shared run.
SHARED_CORES = 0.5


def _other_work(res: Results, multi: list[int]) -> str:
    """What other processes took while the multi-thread points ran, and how to read them then."""
    n = multi[0]
    seen = sorted(s["others_cores"] for s in res.samples
                  if s["threads"] in multi and s.get("others_cores") is not None)
    shared_reading = ("So at 2 threads and more our threads often ran in turn, one time slice each, rather "
                      "than side by side. In turn they pay little for cache-line transfers, so a multi-thread "
                      "median can come close to the 1-thread one; the low ends of the min–max spreads are "
                      "the runs where they overlapped. Read the multi-thread columns as an upper bound, and "
                      "re-run on an idle machine for contention figures.")
    if not seen:
        before = res.loadavg_before[0] if res.loadavg_before else None
        text = ("**Other work.** Not recorded (this report's data predate the measurement, or there is no "
                "/proc/stat). ")
        if before is not None and before >= CORES:
            return text + (f"The 1-minute load average was {before:g} before the run, on {CORES} cores. "
                           + shared_reading)
        return text + "Read the multi-thread columns knowing the machine may have been shared."
    median, top = statistics.median(seen), seen[-1]
    head = (f"**Other work.** While the multi-thread points ran, other processes held {median:.2f} of the "
            f"{CORES} cores (median over the points; {top:.2f} at most). ")
    if median >= SHARED_CORES:
        return head + shared_reading
    text = head + (f"The cores were ours: the change from 1 to {n} threads is the cost of moving the head's "
                   "and tail's cache lines between cores on every operation, not of sharing the machine.")
    if top >= 1.0:
        text += f" Not everywhere: during one point others took {top:.2f} cores."
    return text


def _reuse_section(res: Results, summary: dict[str, Any]) -> list[str]:
    """Is `leaky` a fair baseline? The reuse control (and cachegrind, when installed) says
    whether taking a fresh node for every enqueue costs more than getting one back."""
    if not row(summary, CONTROL, "pairs", 1) or not row(summary, "leaky", "pairs", 1):
        return []
    wls = [wl for wl in res.plan.workloads if wl != "producer-consumer"]
    per_op = res.cache.get("per_op", {})
    L = [REUSE_SECTION, ""]
    L.append(f"`{CONTROL}` here is the reuse control, run at one thread only, where nothing can race (no "
             "interleaving, so no ABA): it is `leaky`'s code line for line, except that a dequeued node is "
             "freed at once instead of retired (`diff native/structures/msqueue/naive.c native/structures/msqueue/leaky.c`), so the "
             "next enqueue gets it back from the per-thread cache, still in L1 — the reuse `tagged`, `hazard` "
             "and `epoch` have, without their protection. Same repetitions as the other 1-thread points, "
             "interleaved with them.")
    L.append("")
    head = "| 1 thread | " + " | ".join(f"{wl} Mops/s" for wl in wls)
    if per_op:
        head += " | instructions / op | data refs / op | L1d misses / op | last-level misses / op"
    L.append(head + " |")
    L.append("|---" * (head.count("|")) + "|")
    for target in ("leaky", CONTROL, "tagged"):
        cells = []
        for wl in wls:
            r = row(summary, target, wl, 1)
            cells.append(f"{r['mops_median']:.1f} [{r['mops_min']:.1f}–{r['mops_max']:.1f}]" if r else "–")
        if per_op:
            c = per_op.get(target, {})
            cells += [_fmt(c.get("I")), _fmt(c.get("D")),
                      f"{max(0.0, c['D1_misses']):.3f}" if "D1_misses" in c else "–",
                      f"{max(0.0, c['LLd_misses']):.3f}" if "LLd_misses" in c else "–"]
        label = f"{target} (reuse control)" if target == CONTROL else target
        L.append(f"| {label} | " + " | ".join(cells) + " |")
    L.append("")
    leaky, control, tagged = (row(summary, t, "pairs", 1)["mops_median"] if row(summary, t, "pairs", 1)
                              else None for t in ("leaky", CONTROL, "tagged"))
    if not leaky or not control:  # a point too short to complete an operation
        return L
    reuse = control / leaky
    text = (f"Pairs, medians: `{CONTROL}` ÷ `leaky` = **{reuse:.2f}×** — the same algorithm, the only "
            "difference being a reused node instead of a fresh one")
    if tagged:
        text += (f"; `tagged` ÷ `{CONTROL}` = **{tagged / control:.2f}×** — what the tags cost with reuse "
                 "held equal (a count bumped on every CAS, and a slot index turned into an address at every "
                 "dereference: a link is one 64-bit word, 32-bit index and 32-bit count, so no double-width "
                 "CAS is needed)")
    text += ". "
    if reuse > 1 + REUSE_NOTICEABLE:
        text += ("Fresh memory costs here: `leaky` is the algorithm plus cold memory, so a scheme that frees "
                 "at once can beat it on one thread without reclamation being free. ")
    elif reuse < 1 - REUSE_NOTICEABLE:
        text += ("Reusing a node costs more than taking a fresh one here — unexpected; check the pool's free "
                 "path (native/freerun/freerun.c). ")
    else:
        text += ("Reuse makes no difference worth the name: `leaky`'s fresh nodes come from the pool in "
                 "address order, a stream the hardware prefetcher keeps ahead of, so `leaky` measures the "
                 "algorithm with reclamation costing nothing, as a baseline should. ")
    if per_op and "leaky" in per_op and CONTROL in per_op:
        lk, ct = per_op["leaky"], per_op[CONTROL]
        text += (f"cachegrind counts `leaky` missing L1d {max(0.0, lk['D1_misses']):.2f} and the last level "
                 f"{max(0.0, lk['LLd_misses']):.2f} times per operation (each fresh node, and its slot's "
                 f"state, generation and retired-list record, written for the first time), `{CONTROL}` "
                 f"{max(0.0, ct['D1_misses']):.3f}: the simulator has no prefetcher, so these are the "
                 "misses there would be, not what they cost. ")
    elif res.cache.get("error"):
        text += f"(cachegrind failed: {res.cache['error']}) "
    else:
        text += "(Cache misses per operation: install valgrind and the full benchmark simulates them.) "
    text += ("Against the control, the schemes' 1-thread cost is: "
             + ", ".join(f"`{v}` {row(summary, v, 'pairs', 1)['mops_median'] / control:.2f}×"
                         for v in ("tagged", "hazard", "epoch") if row(summary, v, "pairs", 1))
             + ". Past one thread `naive` is not safe and is not run.")
    L.append(text)
    L.append("")
    if res.cache.get("per_op"):
        c = res.cache
        L.append(f"Cache figures: `{c['tool']}`, simulated L1d {c['d1']} and last level {c['ll']} "
                 "(size, ways, line), per operation = difference between runs of "
                 f"{c['ops'][0]:,} and {c['ops'][1]:,} operations ÷ the difference (start-up and pool "
                 "initialisation cancel); this VM exposes no hardware counters to `perf stat`.")
        L.append("")
    return L


def render(res: Results, summary: dict[str, Any], acc: dict[str, Any], mach: dict[str, Any],
           plot_error: str | None) -> str:
    """report.md, from the run, its summary and headline figures, and the machine it ran on."""
    p = res.plan
    L: list[str] = []
    L.append(f"# Reclamation schemes on real threads — lfstress {__version__} benchmark"
             + (" (quick)" if p.quick else ""))
    L.append("")
    L.append("What does memory safety cost a Michael–Scott queue? Our variants (`leaky` never frees, `tagged` "
             "uses <pointer, count> links over type-stable memory, `hazard` hazard pointers, `epoch` "
             "epoch-based reclamation, `locked` two locks) against Concurrency Kit and liburcu, measured in "
             "the same run by the same C driver. Generated by `lfstress bench"
             + (" --quick" if p.quick else "") + "`; every raw sample is in `report.json`.")
    L.append("")
    L.append("## Machine")
    L.append("")
    started = datetime.fromtimestamp(res.started, timezone.utc)
    L.append(f"- Run: {started:%Y-%m-%d %H:%M} UTC, {(res.finished - res.started) / 60:.1f} minutes"
             + ("; this text and the plots are rendered from its recorded `report.json`, every figure as "
                "measured then" if res.source else ""))
    L.append(f"- CPU: {mach['cpu']}, {mach['cores']} cores; memory {mach['memory']}; {mach['os']}")
    L.append(f"- Compiler: {mach['compiler']}")
    L.append(f"- Our free-running build: `{mach['our_flags']}` (after Python's `{mach['python_cflags']}`)")
    if res.peers_available:
        L.append(f"- Peers: `{' '.join(res.peer_flags)}`" + _peer_packages(res, mach))
    L.append(f"- Python {mach['python']}, lfstress {mach['lfstress']} (native sources {mach['native_source_hash']})")
    L.append(f"- Load average before / after: {', '.join(map(str, res.loadavg_before))} / "
             f"{', '.join(map(str, res.loadavg_after))} (after: our own threads count in it) — the machine is "
             "shared; medians and min–max spreads are there for that reason, and *other work* below says "
             "how much of it others took while we measured")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append(f"- Workloads: `pairs` (each thread enqueues then dequeues), `mixed` (50/50 at random), "
             f"`producer-consumer` (first half of the threads enqueue, the rest dequeue; from 2 threads). "
             f"Queue prefilled with {p.prefill} values.")
    L.append(f"- Threads {', '.join(map(str, p.threads))}; {p.seconds:g} s per point; {p.reps} repetitions, "
             "interleaved (for each thread count: repetition, workload, then every target in turn), reported "
             "as median [min–max].")
    L.append(f"- Threads start behind a barrier; each runs batches of 64 operations and checks a stop flag "
             f"between batches — no clock call per operation. The main thread sleeps {p.sample_interval * 1e3:g} ms "
             "at a time, samples retired-but-unreclaimed nodes and pool use (racy reads), and raises the stop "
             "flag at the end.")
    L.append("- Mops/s = (enqueues + dequeues that returned a value) / (last thread's stop − first thread's "
             "start). Empty dequeues are not counted.")
    L.append("- Other work (`others_cores` in report.json): for each point, the CPU time the machine spent "
             "busy (/proc/stat, steal included) minus this process's own, over the point's wall time — the "
             "cores other processes (or other VMs) held while it ran.")
    L.append("- Nodes come from a fixed pool with per-thread caches (ours: native/freerun/freerun.c; the peers get a "
             "pool built the same way in native/peers/peers.c), so allocation costs alike on both sides. "
             f"Pools: {p.capacity:,} nodes; `leaky` {p.leaky_capacity():,} (it never frees: † marks a point "
             "where the pool ran out and the run ended early — its rate is over the time it ran). In "
             "`producer-consumer` a producer that finds the pool empty yields and retries: the pool is the "
             "queue's bound.")
    opts = "; ".join(f"`{t}` " + ", ".join(f"{k}={v}" for k, v in o.items())
                     for t, o in res.target_options.items() if o)
    L.append(f"- Options (defaults): {opts}. `ck_hp_fifo` scans with the same R as our `hazard`.")
    L.append(f"- Stalled-thread run: {STALL_THREADS} threads, `pairs`; the last thread takes what a thread inside "
             "an operation holds — a hazard on the head node (`hazard`, `ck_hp_fifo`), an epoch announcement "
             "(`epoch`), an RCU read-side lock (`urcu_lfq`) — through the reclamation API, then sleeps until "
             f"the end; {p.stall_seconds:g} s, {p.stall_reps} repetition(s), "
             f"pool {p.stall_capacity:,} nodes. No structure code has a stall hook.")
    L.append("")
    L.append("## Headline figures")
    L.append("")
    if "leaky_1_thread_mops" in acc:
        L.append(f"- `leaky`, 1 thread, pairs: **{acc['leaky_1_thread_mops']:.1f} Mops/s** "
                 f"(target ≥ {LEAKY_TARGET_MOPS:g}: {'met' if acc['leaky_1_thread_ok'] else 'MISSED'})")
    for v, r in acc.get("ratios_vs_leaky_1_thread", {}).items():
        verdict = "" if v == "locked" else (
            " — within the literature's range" if r["within_literature"]
            else (f" — **above** {LITERATURE_RATIO[0]}–{LITERATURE_RATIO[1]}× (faster than leaky: see below)"
                  if r["ratio"] > LITERATURE_RATIO[1] else
                  f" — **below** {LITERATURE_RATIO[0]}–{LITERATURE_RATIO[1]}×"))
        peer = (f" (`{r['peer']['name']}` ÷ `leaky`, same run: {r['peer']['ratio']:.2f}×)"
                if r.get("peer") else "")
        L.append(f"- `{v}` ÷ `leaky`, 1 thread: **{r['ratio']:.2f}×**{verdict}{peer}")
    for key, by_n in acc.get("ours_vs_peer", {}).items():
        vals = ", ".join(f"{n} thr {v:.2f}×" for n, v in by_n.items() if v is not None)
        L.append(f"- `{key.replace('/', '` ÷ `')}` (pairs): {vals}")
    if "stall_epoch_grows" in acc:
        L.append(f"- Stall: `epoch` unreclaimed count grows with time: **{'yes' if acc['stall_epoch_grows'] else 'NO'}**")
    if "stall_hazard_bounded" in acc:
        L.append(f"- Stall: `hazard` peak {acc['stall_hazard_peak']} ≤ N·R = {acc['stall_hazard_bound']}: "
                 f"**{'yes' if acc['stall_hazard_bounded'] else 'no'}**"
                 + ("" if acc["stall_hazard_bounded"] else
                    f" (within the worst case N·max(R, H+1): "
                    f"{'yes' if acc.get('stall_hazard_within_worst_case') else 'NO'})"))
    L.append("")
    L.append("## What the figures say")
    L.append("")
    for o in _observations(res, summary, acc):
        L.append(o)
        L.append("")
    L.append("## Throughput (Mops/s, median [min–max])")
    L.append("")
    for wl in p.workloads:
        L.extend(_throughput_table(res, summary, wl))
        L.append("")
    L.append(_oversub_note(p.threads))
    if any(r["exhausted_reps"] for r in summary["throughput"]):
        L.append("† the pool ran out in at least one repetition; the rate is over the time the run lasted.")
        L.append("")
    L.append("![throughput](throughput.png)")
    L.append("")
    L.append("## Normalised to `leaky` (median ÷ median)")
    L.append("")
    for wl in p.workloads:
        L.extend(_ratio_table(res, summary, wl))
        L.append("")
    L.append("![normalised](throughput_normalised.png)")
    L.append("")
    L.append("## Latency at one thread (ns per operation, median)")
    L.append("")
    wls1 = [wl for wl in p.workloads if wl != "producer-consumer"]
    L.append("| target | " + " | ".join(wls1) + " |")
    L.append("|---" * (len(wls1) + 1) + "|")
    for target in targets(res):
        L.append(f"| {target} | " + " | ".join(_fmt((row(summary, target, wl, 1) or {}).get("ns_per_op"))
                                                for wl in wls1) + " |")
    L.append("")
    L.extend(_reuse_section(res, summary))
    L.append("## Memory: unreclaimed nodes and pool use")
    L.append("")
    L.append("Retired-but-unreclaimed nodes, average (median over repetitions) / peak (max), and the peak "
             "number of nodes in use (queue + unreclaimed + per-thread caches' allocations). `tagged`, "
             "`locked` and `ck_fifo_mpmc` free at once (0); `leaky` never frees (its pool use is every "
             "node it ever allocated).")
    L.append("")
    L.extend(_memory_table(res, summary, "pairs" if "pairs" in p.workloads else p.workloads[0]))
    L.append("")
    L.append("![unreclaimed](unreclaimed.png)")
    L.append("")
    L.append("## Stalled thread")
    L.append("")
    if summary["stall"]:
        L.append("| target | stalled | unreclaimed at end (median) | peak | growth, 2nd half (nodes/s) | "
                 "bound N·R | pool ran out | Mops/s while stalled |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in summary["stall"]:
            L.append(f"| {r['target']} | {'yes' if r['stalled'] else 'no'} | {_fmt(r['final_median'], 0)} | "
                     f"{_fmt(r['peak_max'], 0)} | {_fmt(r['slope_median'], 0)} | {r['bound'] or '—'} | "
                     f"{r['exhausted_reps']}/{r['reps']} | {_fmt(r['mops_median'], 2)} |")
        L.append("")
        others = [t for t in targets(res) if not stallable(t)]
        if others:
            L.append("Not run: " + ", ".join(f"`{t}`" for t in others)
                     + " — no deferred reclamation for a stalled thread to hold up.")
            L.append("")
        if any(r["bound"] for r in summary["stall"]):
            L.append(f"N = {STALL_THREADS} threads, R = hp_threshold. A scan leaves only nodes some hazard names, "
                     "so a thread's list stays under max(R, H + 1) with H = 2N hazards; N·R is the bound "
                     "drawn in the plot.")
            L.append("")
    else:
        L.append("No stall run in this report.")
        L.append("")
    L.append("![stall](stall.png)")
    L.append("")
    if plot_error:
        L.append(f"> Plots missing: {plot_error}")
        L.append("")
    return "\n".join(L)
