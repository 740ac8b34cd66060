"""The benchmark plan and its execution: what runs, in which order, how often.

Order matters on a noisy machine: for each thread count, repetitions are the
outer loop and targets the inner one, so that a burst of load from elsewhere
hits every target alike instead of one target's five repetitions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from .. import _native
from ..errors import UsageError
from ..structures import lookup
from . import coldcache
from . import peers as peers_mod
from .driver import WORKLOADS, OurTarget, PeerTarget, run_point
from .machine import bench_machine

VARIANTS = ("leaky", "tagged", "hazard", "epoch", "locked")
STALL_THREADS = 3  # two workers and the stalled thread
# Targets with deferred reclamation, the ones a stalled thread can hold up.
# The others free at once (tagged, locked, ck_fifo_mpmc) or never (leaky).
STALLABLE_PEERS = ("ck_hp_fifo", "urcu_lfq")


def stallable(name: str) -> bool:
    """Whether a stalled thread can hold up this target's reclamation: a peer
    by name, one of our variants as its descriptor declares (stall hooks)."""
    if name in peers_mod.ALL_PEERS:
        return name in STALLABLE_PEERS
    return lookup("msqueue", name).reclaim.can_stall


@dataclass(frozen=True)
class Plan:
    threads: tuple[int, ...] = (1, 2, 4, 8)
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    seconds: float = 0.5
    reps: int = 5
    stall_seconds: float = 2.0
    stall_reps: int = 3
    variants: tuple[str, ...] = VARIANTS
    peers: bool = True
    prefill: int = 1000
    sample_interval: float = 0.001
    capacity: int = 1 << 20          # nodes per pool (leaky: see leaky_capacity)
    stall_capacity: int = 1 << 22
    leaky_capacity_max: int = 1 << 24
    # At 1 thread, also `naive` (safe there: nothing to race with): leaky's
    # code freeing at once — the control that tells reuse from reclamation
    # (coldcache.py). And cachegrind's misses per operation, when installed.
    reuse_control: bool = True
    cache_sim: bool = True
    quick: bool = False

    def leaky_capacity(self) -> int:
        # leaky never frees: one node per enqueue. Sized for ~60 M enqueues/s
        # (above what this machine does); past the cap the run ends early and
        # the sample says so (`exhausted`).
        return min(self.leaky_capacity_max, int(self.seconds * 60e6) + self.prefill + (1 << 16))

    def validate(self) -> None:
        max_threads = _native.limit("LFS_MAX_THREADS")
        if not self.threads or any(not 1 <= n <= max_threads for n in self.threads):
            raise UsageError(f"thread counts must be between 1 and {max_threads}, got {list(self.threads)}")
        if self.seconds <= 0 or self.stall_seconds < 0:
            raise UsageError("durations must be positive")
        if self.reps < 1:
            raise UsageError(f"repetitions must be at least 1, got {self.reps}")
        for v in self.variants:
            if v not in VARIANTS:
                raise UsageError(f"the benchmark runs {', '.join(VARIANTS)}; {v!r} is not one of them"
                                 + (" (naive corrupts memory when run free)" if v == "naive" else ""))


FULL = Plan()
QUICK = Plan(threads=(1, 2, 4), seconds=0.1, reps=3, stall_seconds=0.5, stall_reps=1, cache_sim=False,
             quick=True)


@dataclass
class Results:
    plan: Plan
    samples: list[dict[str, Any]] = field(default_factory=list)
    stall: list[dict[str, Any]] = field(default_factory=list)
    peers_available: tuple[str, ...] = ()
    peers_missing: dict[str, str] = field(default_factory=dict)
    peer_flags: tuple[str, ...] = ()
    target_options: dict[str, dict[str, int]] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    loadavg_before: tuple[float, ...] = ()
    loadavg_after: tuple[float, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)  # coldcache.cache_misses_per_op()
    machine: dict[str, Any] = field(default_factory=dict)  # machine.bench_machine(), where it ran
    source: str = ""  # the report.json these results were read back from; "" for a run just made


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: float, enabled: bool | None = None):
        self.total = max(total, 1e-9)
        self.done = 0.0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.t0 = time.monotonic()

    def advance(self, amount: float, label: str) -> None:
        self.done += amount
        if not self.enabled:
            return
        frac = min(self.done / self.total, 1.0)
        width = 28
        filled = int(frac * width)
        elapsed = time.monotonic() - self.t0
        eta = elapsed / frac - elapsed if frac > 0 else 0
        sys.stderr.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {frac:4.0%}  ETA {eta:4.0f}s  {label[:40]:<40}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 90 + "\r")
            sys.stderr.flush()


def _points(plan: Plan) -> list[tuple[int, str]]:
    return [(n, wl) for n in plan.threads for wl in plan.workloads
            if not (wl == "producer-consumer" and n < 2)]


def _cpu_seconds() -> tuple[float, float] | None:
    """CPU-seconds the whole machine has spent busy (steal included: another
    VM's work), and CPU-seconds of this process, its threads and children.
    None where /proc/stat is not there."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    except (OSError, ValueError):
        return None
    ours = os.times()
    return ((user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"),
            ours.user + ours.system + ours.children_user + ours.children_system)


def others_cores(before: tuple[float, float] | None, after: tuple[float, float] | None,
                 wall: float) -> float | None:
    """How many cores other work held on average between two _cpu_seconds()
    readings: the machine's busy time minus ours, over the wall time."""
    if before is None or after is None or wall <= 0:
        return None
    return round(max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / wall, 2)


def _loadavg() -> tuple[float, ...]:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return ()


def run(plan: Plan, *, progress: bool | None = None,
        on_sample: Callable[[dict[str, Any]], None] | None = None) -> Results:
    plan.validate()
    res = Results(plan)
    peer_targets: list[PeerTarget] = []
    hp_threshold = 4
    if plan.peers:
        loaded = peers_mod.load()
        res.peers_missing = dict(loaded.missing)
        res.peers_available = loaded.names
        res.peer_flags = loaded.flags
    names = list(plan.variants) + list(res.peers_available)
    stalled = [name for name in [*plan.variants, *res.peers_available] if stallable(name)]
    control = plan.reuse_control and 1 in plan.threads and "leaky" in plan.variants
    total = (len(_points(plan)) * plan.reps * plan.seconds * len(names)
             + plan.stall_reps * plan.stall_seconds * len(stalled)
             + (plan.reps * plan.seconds * sum(wl != "producer-consumer" for wl in plan.workloads)
                if control else 0))
    bar = Progress(total, progress)
    res.started = time.time()
    res.loadavg_before = _loadavg()
    try:
        # our hazard's R, so that ck_hp_fifo scans as often as ours does
        hp_threshold = lookup("msqueue", "hazard").option_values(None)[
            [o.name for o in lookup("msqueue", "hazard").options].index("hp_threshold")]
        if res.peers_available:
            loaded = peers_mod.load()
            peer_targets = [PeerTarget(loaded.module, name, plan.capacity, hp_threshold)
                            for name in res.peers_available]
            for t in peer_targets:
                res.target_options[t.name] = t.options

        for n in plan.threads:
            ours = [OurTarget(v, n, plan.leaky_capacity() if v == "leaky" else plan.capacity)
                    for v in plan.variants]
            if control and n == 1:
                ours.append(OurTarget(coldcache.CONTROL, 1, plan.capacity))
            for t in ours:
                res.target_options.setdefault(t.name, t.options)
            try:
                for rep in range(plan.reps):
                    for wl in plan.workloads:
                        if wl == "producer-consumer" and n < 2:
                            continue
                        for t in [*ours, *peer_targets]:
                            cpu_before, wall_before = _cpu_seconds(), time.monotonic()
                            s = run_point(t, threads=n, workload=wl, seconds=plan.seconds,
                                          prefill=plan.prefill, sample_interval=plan.sample_interval,
                                          seed=rep + 1, end_when_exhausted=t.name == "leaky")
                            s["others_cores"] = others_cores(cpu_before, _cpu_seconds(),
                                                             time.monotonic() - wall_before)
                            s.pop("_result")
                            s["rep"] = rep
                            res.samples.append(s)
                            if on_sample:
                                on_sample(s)
                            bar.advance(plan.seconds, f"{t.name} {wl} {n}T rep {rep + 1}/{plan.reps}")
            finally:
                for t in ours:
                    t.close()

        if plan.stall_seconds > 0 and plan.stall_reps > 0:
            stall_ours = [OurTarget(v, STALL_THREADS, plan.stall_capacity)
                          for v in plan.variants if stallable(v)]
            stall_peers = []
            if res.peers_available:
                loaded = peers_mod.load()
                stall_peers = [PeerTarget(loaded.module, name, plan.stall_capacity, hp_threshold)
                               for name in res.peers_available if stallable(name)]
            try:
                for rep in range(plan.stall_reps):
                    for t in [*stall_ours, *stall_peers]:
                        s = run_point(t, threads=STALL_THREADS, workload="pairs", seconds=plan.stall_seconds,
                                      prefill=plan.prefill, stall=True, series=True,
                                      sample_interval=max(plan.sample_interval, plan.stall_seconds / 2000),
                                      seed=rep + 1, end_when_exhausted=True)
                        s.pop("_result")
                        s["rep"] = rep
                        res.stall.append(s)
                        bar.advance(plan.stall_seconds, f"stall {t.name} rep {rep + 1}/{plan.stall_reps}")
            finally:
                for t in [*stall_ours, *stall_peers]:
                    t.close()
        if plan.cache_sim and control and coldcache.available():
            bar.advance(0, "cachegrind: misses per operation")
            try:
                res.cache = coldcache.cache_misses_per_op()
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                res.cache = {"error": str(exc)}
    finally:
        for t in peer_targets:
            t.close()
        bar.close()
    res.finished = time.time()
    res.loadavg_after = _loadavg()
    res.machine = bench_machine(tuple(dict.fromkeys(
        peers_mod.PACKAGE[peers_mod.PEER_LIBRARY[name]] for name in res.peers_available)))
    return res


def plan_dict(plan: Plan) -> dict[str, Any]:
    d = asdict(plan)
    d["leaky_capacity"] = plan.leaky_capacity()
    return d


def with_overrides(plan: Plan, **kw: Any) -> Plan:
    return replace(plan, **{k: v for k, v in kw.items() if v is not None})
