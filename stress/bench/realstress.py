"""``lfstress stress``: a variant on real threads, then audits of what is left.

The run happens in a child process (``python -m stress.bench.realstress``)
with a deadline, so that a structure that corrupts memory for real becomes a
``crash`` result naming the signal, and one that spins forever (a cycle in
the queue) a ``livelock`` result, instead of taking the harness down.

In the child: N pthreads run the workload for a duration or an operation
count, enqueueing unique values ``(thread << 40) | sequence``; each consumer
tallies what it dequeues per producer — count, sum and fingerprint of the
sequence numbers, and their order — in memory that does not grow with the
run (native/freerun/bench.c). Then, with every thread joined:

- conservation: each value enqueued came out exactly once or is still in
  the queue; nothing came out that was never put in; and FIFO order per
  producer (a consumer never sees a producer's values out of order, and
  what is left was enqueued after everything of that producer that left).
  Any difference is detected; one lost or duplicated value per producer is
  named; when several of both kinds mix, their counts are lower bounds and
  the report says so;
- pool accounting: LIVE + RETIRED + FREE = capacity, the free list holds
  exactly the FREE slots, once each, and the retired lists hold exactly the
  RETIRED ones;
- reachability (stress/checks/reachability.py) over the final pool.

A failure here cannot be replayed — the interleaving came from the OS
scheduler — so the report points to the stepped search of the same variant.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

from .. import _native
from ..contained import run_in_child
from ..errors import UsageError
from ..structures import lookup

FAMILY = "msqueue"
DEFAULT_CAPACITY = 1 << 18
DEFAULT_PREFILL = 0  # short queues: a freed node comes back to the head soonest
OUT_OF_MEMORY = "out-of-memory"  # the outcome of a run that could not allocate
JOIN_TIMEOUT = 3.0   # seconds a thread gets to come back after the stop flag
NOT_FREE_SAFE = {
    "naive": "msqueue/naive is not run on real threads: it frees dequeued nodes at once with no "
             "protection, so under real concurrency it corrupts memory (the ABA of the essay) — "
             "search it stepped instead: lfstress explore --story classic-aba --variant naive",
}


def validate(variant: str, options: dict[str, int]) -> dict[str, int]:
    info = lookup(FAMILY, variant)
    if variant in NOT_FREE_SAFE:
        raise UsageError(NOT_FREE_SAFE[variant])
    values = info.option_values(options)
    return {o.name: v for o, v in zip(info.options, values)}


def run(variant: str, *, threads: int = 4, seconds: float = 10.0, max_ops: int = 0,
        workload: str = "pairs", capacity: int = DEFAULT_CAPACITY, options: dict[str, int] | None = None,
        prefill: int = DEFAULT_PREFILL, seed: int = 1, grace: float = 30.0) -> dict[str, Any]:
    """Run in a child process; return the audit as a dict (see ``_child``)."""
    from .driver import WORKLOADS

    opts = validate(variant, dict(options or {}))
    max_threads = _native.limit("LFS_MAX_THREADS")
    if not 1 <= threads <= max_threads:
        raise UsageError(f"--threads must be between 1 and {max_threads}, got {threads}")
    if not (math.isfinite(seconds) and seconds >= 0):
        raise UsageError(f"--seconds must be a finite number of seconds, 0 or more, got {seconds}")
    if not 0 <= max_ops < 2**63:
        raise UsageError(f"--ops must be 0 (no limit) or more, got {max_ops}")
    if seconds <= 0 and max_ops <= 0:
        raise UsageError("give a duration (--seconds) or an operation count (--ops)")
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be between 0 and 2^63-1, got {seed}")
    if workload not in WORKLOADS:
        raise UsageError(f"unknown workload {workload!r} (allowed: {', '.join(WORKLOADS)})")
    if workload == "producer-consumer" and threads < 2:
        raise UsageError("producer-consumer needs at least 2 threads")
    if not 16 <= capacity <= 1 << 26:
        raise UsageError(f"--capacity must be between 16 and {1 << 26}, got {capacity}")
    if not 0 <= prefill < capacity:
        raise UsageError(f"--prefill must be between 0 and the capacity less one ({capacity - 1}), got {prefill}")
    params = {"variant": variant, "threads": threads, "seconds": seconds if seconds > 0 else 1e9,
              "max_ops": max_ops, "workload": workload, "capacity": capacity, "options": opts,
              "prefill": prefill, "seed": seed}
    limit = (seconds if seconds > 0 else 3600.0) + grace
    base = {"structure": f"{FAMILY}/{variant}", "options": opts, "threads": threads,
            "workload": workload, "seconds_requested": seconds, "max_ops": max_ops, "capacity": capacity}
    return run_in_child(
        _child_command(params), limit=limit, base=base,
        hang=f"no result {limit - seconds:.0f} s after the deadline: a thread never came back "
             "from an operation (a cycle in the queue, or a lost wake-up); the child was killed",
        died="the child running the threads died of {signal}: the code under test corrupted memory for real")


def _child_command(params: dict[str, Any]) -> list[str]:
    """The child's command line; the last argument is ``params`` as JSON."""
    return [sys.executable, "-m", "stress.bench.realstress", json.dumps(params)]


def value_name(v: int, threads: int) -> str:
    who, k = v >> 40, v & ((1 << 40) - 1)
    return f"prefill#{k}" if who == threads else (f"T{who}#{k}" if who < threads else f"{v:#x}")


# ------------------------------------------------------------------ child

def _snapshot(ffi, lib, r, info):
    from ..engine import build_snapshot

    cap = lib.lfs_run_capacity(r)

    def decode(word: int) -> int | None:
        slot = lib.lfs_run_decode_ref(r, word)
        return None if slot < 0 else slot

    return build_snapshot(
        info,
        states=ffi.unpack(lib.lfs_run_slot_states(r), cap),
        gens=ffi.unpack(lib.lfs_run_slot_gens(r), cap),
        words=ffi.unpack(lib.lfs_run_node_words(r), cap * len(info.fields)),
        shared=lib.lfs_run_shared_words(r),
        decode=decode,
    )


def check_conservation(tally, res, prefill: int, remaining: list[int] | None, threads: int) -> dict[str, Any]:
    """Conservation from the consumers' tallies of a run (``res``) and the
    values still queued (``None``: the queue is too broken to tell)."""
    from .. import _native

    m = _native.free()
    ffi, lib = m.ffi, m.lib
    check = ffi.new("lfs_stress_check_t *")
    rem = ffi.new("uint64_t[]", remaining or [0])
    lib.lfs_stress_check(tally, res, prefill, rem, len(remaining or ()), check)
    if remaining is None:
        conservation: dict[str, Any] = {"checked": False, "ok": False,
                                        "message": "the queue is broken (see reachability): "
                                                   "what is left in it cannot be told"}
    else:
        conservation = {"checked": True}
    fields = ("enqueued", "dequeued", "remaining", "lost", "duplicated", "unknown", "out_of_order")
    conservation.update({k: getattr(check, k) for k in fields})
    conservation["exact"] = bool(check.exact)
    for k in ("lost", "duplicated", "unknown", "out_of_order"):
        if getattr(check, k):
            first = getattr(check, f"first_{k}")
            conservation[f"first_{k}"] = None if first == lib.LFS_STRESS_UNNAMED else value_name(first, threads)
    if conservation["checked"]:
        conservation["ok"] = not (check.lost or check.duplicated or check.unknown or check.out_of_order)
    return conservation


def _child(params: dict[str, Any]) -> dict[str, Any]:
    from .. import _native
    from ..checks.reachability import check_reachability, queue_contents
    from .driver import OurTarget, run_point

    m = _native.free()
    ffi, lib = m.ffi, m.lib
    variant, n = params["variant"], params["threads"]
    target = OurTarget(variant, n, params["capacity"], params["options"])
    info = target.info
    tally = lib.lfs_stress_tally_new(n)
    if tally == ffi.NULL:
        raise MemoryError("the stress tally")
    tally = ffi.gc(tally, lib.lfs_stress_tally_delete)
    sample = run_point(target, threads=n, workload=params["workload"], seconds=params["seconds"],
                       prefill=params["prefill"], max_ops=params["max_ops"], seed=params["seed"],
                       sample_interval=0.01, tally=tally, end_when_exhausted=True,
                       join_timeout=JOIN_TIMEOUT)
    res = sample.pop("_result")
    # With a thread stuck in an operation the audit still runs: it spins
    # reading the structure, and the pool's state tells why.
    lib.lfs_run_quiesce(target.run)

    audit = ffi.new("lfs_pool_audit_t *")
    lib.lfs_run_audit_pool(target.run, audit)
    accounting = {k: getattr(audit, k) for k in ("capacity", "free", "live", "retired", "other",
                                                    "free_listed", "free_list_bad", "retired_listed")}
    accounting["ok"] = (audit.other == 0 and audit.free + audit.live + audit.retired == audit.capacity
                        and audit.free == audit.free_listed and audit.free_list_bad == 0
                        and audit.retired == audit.retired_listed)

    snap = _snapshot(ffi, lib, target.run, info)
    violations = check_reachability(snap, quiescent=True)
    skipped = []
    if variant == "leaky":  # it abandons every dequeued node by design
        skipped.append("leak: leaky never frees a dequeued node, by design")
        violations = [v for v in violations if v.kind != "leak"]
    reach = {"ok": not violations, "skipped": skipped,
             "violations": [{"kind": v.kind, "message": v.message[:500]} for v in violations]}

    conservation = check_conservation(tally, res, params["prefill"], queue_contents(snap), n)

    kinds = []
    if not conservation["ok"]:
        if conservation["lost"] and conservation["checked"]:
            kinds.append("lost-value")
        if conservation["duplicated"]:
            kinds.append("duplicate-value")
        if conservation["out_of_order"]:
            kinds.append("not-linearizable")
        if conservation["unknown"]:
            kinds.append("use-after-free")
    if not accounting["ok"]:
        kinds.append("double-free" if audit.free_list_bad else "leak")
    kinds += [v["kind"] for v in reach["violations"]]
    stuck = sample["stuck"]
    if stuck:
        kinds.insert(0, "livelock")
    kinds = list(dict.fromkeys(kinds))
    ok = conservation["ok"] and accounting["ok"] and reach["ok"] and not stuck
    if not stuck:
        target.close()
    return {
        "structure": info.name, "options": params["options"], "threads": n,
        "workload": params["workload"], "seconds_requested": params["seconds"],
        "max_ops": params["max_ops"], "capacity": params["capacity"],
        "outcome": "ok" if ok else ("livelock" if stuck else "violation"), "kinds": kinds,
        "stuck": stuck,
        "message": (f"{stuck} thread(s) still inside an operation {JOIN_TIMEOUT:g} s after the stop flag: "
                    "spinning on a broken queue (the audits below ran with them still spinning)")
                   if stuck else "",
        "seconds": sample["seconds"], "ops": sample["ops"] + sum(sample["empties"]),
        "mops": sample["mops"], "enqueues": sample["enqueues"], "dequeues": sample["dequeues"],
        "empties": sample["empties"], "exhausted": sample["exhausted"],
        "conservation": conservation, "accounting": accounting, "reachability": reach,
    }


def _child_result(params: dict[str, Any]) -> dict[str, Any]:
    """``_child``'s result, or an ``out-of-memory`` one when an allocation
    failed (a memory limit, not a verdict on the queue); with the child's
    peak resident set either way."""
    import resource

    try:
        result = _child(params)
    except MemoryError as exc:
        result = {"outcome": OUT_OF_MEMORY, "kinds": [],
                  "message": f"out of memory ({exc or 'an allocation failed'}): the run could not be "
                             "made, so nothing is said about the queue; lower --capacity or raise the limit"}
    result["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


if __name__ == "__main__":
    print(json.dumps(_child_result(json.loads(sys.argv[1]))), flush=True)
    os._exit(0)  # threads stuck in an operation must not keep the child alive
