"""The thin layer over the C driver (native/freerun/bench.c): targets and one run.

A *target* is a queue the driver can run: one of our structures over a
free-running pool (``OurTarget``), or a peer from Concurrency Kit / liburcu
(``PeerTarget``, see peers.py). ``run_point`` runs one measurement and
returns its raw sample as a plain dict, ready for report.json.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _native
from ..errors import EngineError, UsageError
from ..structures import lookup

# Workload names and their enum lfs_bench_workload constants (values: from lib).
WORKLOADS = {"pairs": "LFS_WL_PAIRS", "mixed": "LFS_WL_MIXED", "producer-consumer": "LFS_WL_PRODCONS"}
FAMILY = "msqueue"


class OurTarget:
    """One of our structures, on a pool sized for ``threads`` threads."""

    kind = "ours"

    def __init__(self, variant: str, threads: int, capacity: int, options: dict[str, int] | None = None):
        m = _native.free()
        self._ffi, self._lib = m.ffi, m.lib
        self.info = lookup(FAMILY, variant)
        self.name = variant
        self.threads = threads
        self.capacity = capacity
        values = self.info.option_values(options)
        self.options = {o.name: v for o, v in zip(self.info.options, values)}
        opts = self._ffi.new("int64_t[]", values or [0])
        self.run = self._lib.lfs_run_new(self._lib.lfs_structure_get(self.info.index), threads, capacity, opts)
        if self.run == self._ffi.NULL:
            # the variant and its options were checked: only the allocation can fail
            raise MemoryError(f"could not allocate a free-running {variant} run "
                              f"({threads} threads, {capacity:,} nodes)")
        self.ptr = self._lib.lfs_bench_target_for_run(self.run)
        if self.ptr == self._ffi.NULL:
            self._lib.lfs_run_delete(self.run)
            raise EngineError(f"{self.info.name} is not an enqueue/dequeue structure")

    def close(self) -> None:
        if self.ptr is not None:
            self._lib.free(self.ptr)
            self._lib.lfs_run_delete(self.run)
            self.ptr = self.run = None


class PeerTarget:
    """A peer queue from the runtime-built peers module."""

    kind = "peer"

    def __init__(self, peers_module: Any, name: str, capacity: int, hp_threshold: int):
        self._peers = peers_module
        self._lib = _native.free().lib
        self.name = name
        self.capacity = capacity
        self.options = {"hp_threshold": hp_threshold} if name == "ck_hp_fifo" else {}
        ptr = peers_module.lib.lfs_peer_new(name.encode(), capacity, hp_threshold)
        if ptr == peers_module.ffi.NULL:
            raise EngineError(f"could not create peer {name} ({capacity} nodes)")
        self._own = ptr
        # Same struct, two cffi modules: hand the address over.
        address = int(peers_module.ffi.cast("uintptr_t", ptr))
        self.ptr = _native.free().ffi.cast("lfs_bench_target_t *", address)

    def close(self) -> None:
        if self._own is not None:
            self._peers.lib.lfs_peer_delete(self._own)
            self._own = self.ptr = None


def run_point(target, *, threads: int, workload: str, seconds: float, prefill: int = 1000,
              stall: bool = False, sample_interval: float = 0.001, series: bool = False,
              max_ops: int = 0, seed: int = 1, tally=None,
              end_when_exhausted: bool = False, join_timeout: float = 0.0) -> dict[str, Any]:
    """One measurement. ``threads`` counts the stalled thread when ``stall``."""
    if workload not in WORKLOADS:
        raise UsageError(f"unknown workload {workload!r} (allowed: {', '.join(WORKLOADS)})")
    m = _native.free()
    ffi, lib = m.ffi, m.lib
    cfg = ffi.new("lfs_bench_config_t *")
    cfg.threads = threads
    cfg.workload = getattr(lib, WORKLOADS[workload])
    cfg.prefill = prefill
    cfg.seconds = seconds
    cfg.max_ops = max_ops
    cfg.stall = 1 if stall else 0
    cfg.sample_interval = sample_interval
    cfg.seed = seed
    cfg.end_when_exhausted = 1 if end_when_exhausted else 0
    cfg.join_timeout = join_timeout
    keep = []
    if series:
        n = int(math.ceil(seconds / sample_interval)) + 64
        cfg.max_samples = n
        keep = [ffi.new("double[]", n), ffi.new("uint64_t[]", n), ffi.new("uint64_t[]", n)]
        cfg.series_t, cfg.series_unreclaimed, cfg.series_pool = keep
    if tally is not None:
        cfg.tally = tally
    res = ffi.new("lfs_bench_result_t *")
    if lib.lfs_bench_run(target.ptr, cfg, res) != 0:
        raise EngineError(f"the benchmark driver refused {target.name} with {threads} threads "
                          f"(error {res.error})")
    workers = threads - 1 if stall else threads
    enq = [res.enqueues[i] for i in range(workers)]
    deq = [res.dequeues[i] for i in range(workers)]
    empty = [res.empties[i] for i in range(workers)]
    useful = sum(enq) + sum(deq)
    unknown = 2**64 - 1
    sample: dict[str, Any] = {
        "target": target.name,
        "workload": workload,
        "threads": threads,
        "seconds": res.seconds,
        # Throughput counts operations that did something: enqueues, and
        # dequeues that returned a value (empty dequeues are listed apart).
        "mops": useful / res.seconds / 1e6 if res.seconds > 0 else 0.0,
        "ops": useful,
        "enqueues": enq,
        "dequeues": deq,
        "empties": empty,
        "exhausted": bool(res.exhausted),
        "pool_waits": res.pool_waits,
        "unreclaimed_avg": res.unreclaimed_avg if res.unreclaimed_peak != unknown else None,
        "unreclaimed_peak": res.unreclaimed_peak if res.samples else None,
        "pool_peak": res.pool_peak,
        "samples": res.samples,
        "stuck": res.stuck,
    }
    if stall:
        sample["stalled"] = bool(res.stalled)
    if series:
        n = min(res.samples, cfg.max_samples)
        t, u, p = keep
        sample["series"] = {
            "t": [round(t[i], 5) for i in range(n)],
            "unreclaimed": [u[i] for i in range(n)],
            "pool_used": [p[i] for i in range(n)],
        }
    sample["_result"] = res  # for the stress audit; dropped before JSON
    return sample
