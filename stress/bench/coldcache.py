"""Why ``tagged`` can beat ``leaky`` on one thread: the reuse control.

``leaky`` never frees, so every enqueue takes a node nobody has touched yet
and every dequeue appends the old one to the thread's retired list: on one
thread it streams through fresh memory (nodes and the pool's per-slot
state, generation, stamp and list links). ``tagged`` frees at once and gets
the node back from its per-thread LIFO cache, still in L1.

Two measurements separate that from the algorithm:

- the *reuse control*: ``naive`` at one thread, where nothing can race (no
  interleaving, so no ABA). Its code is ``leaky``'s line for line, except
  that a dequeued node is freed instead of retired (diff
  native/structures/msqueue/naive.c native/structures/msqueue/leaky.c). The runner measures it
  beside the 1-thread points, same repetitions, interleaved;
- *cache misses per operation*, simulated by valgrind's cachegrind when it
  is installed (this machine's VM exposes no hardware counters to ``perf``):
  each target runs twice in a child, at two operation counts, and the
  difference divided by the extra operations cancels Python's start-up and
  the pool's initialisation. The counts are a simulation of a 32 KiB 8-way
  L1d and a 16 MiB 16-way last level, deterministic, not timed.

Run alone: python -m stress.bench.coldcache
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

CONTROL = "naive"          # the reuse control, at one thread only
TARGETS = ("leaky", CONTROL, "tagged")
OPS = (500_000, 1_500_000)  # two runs; per-op figures are their difference / 1 M
CAPACITY = 1 << 21         # enough for leaky's 750,000 enqueues + prefill
D1 = "32768,8,64"
LL = "16777216,16,64"
_COUNTERS = {"I": r"I\s+refs:\s+([\d,]+)",
             "D": r"D\s+refs:\s+([\d,]+)",
             "D1_misses": r"D1\s+misses:\s+([\d,]+)",
             "LLd_misses": r"LLd\s+misses:\s+([\d,]+)"}


def available() -> bool:
    return shutil.which("valgrind") is not None


def _child(variant: str, ops: int) -> None:
    from .driver import OurTarget, run_point

    target = OurTarget(variant, 1, CAPACITY)
    s = run_point(target, threads=1, workload="pairs", seconds=1e6, max_ops=ops, prefill=1000,
                  sample_interval=1.0)
    print(json.dumps({"ops": s["ops"], "exhausted": s["exhausted"]}))


def _counts(variant: str, ops: int) -> dict[str, int]:
    with tempfile.NamedTemporaryFile(suffix=".cg") as out:
        proc = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--D1={D1}", f"--LL={LL}",
             f"--cachegrind-out-file={out.name}", sys.executable, "-m", "stress.bench.coldcache",
             "--child", variant, str(ops)],
            capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"cachegrind on {variant} failed: {proc.stderr.strip()[-300:]}")
    counts = {}
    for name, pattern in _COUNTERS.items():
        m = re.search(pattern, proc.stderr)
        if not m:
            raise RuntimeError(f"cachegrind printed no {name} for {variant}")
        counts[name] = int(m.group(1).replace(",", ""))
    return counts


def cache_misses_per_op() -> dict[str, Any]:
    """Per-operation instruction, data-reference and miss counts for TARGETS
    (one thread, pairs), from cachegrind; {} when valgrind is missing."""
    if not available():
        return {}
    per_op: dict[str, dict[str, float]] = {}
    for variant in TARGETS:
        lo, hi = _counts(variant, OPS[0]), _counts(variant, OPS[1])
        per_op[variant] = {k: (hi[k] - lo[k]) / (OPS[1] - OPS[0]) for k in _COUNTERS}
    return {"tool": "valgrind --tool=cachegrind", "d1": D1, "ll": LL, "ops": list(OPS),
            "capacity": CAPACITY, "per_op": per_op}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1], int(argv[2]))
        return 0
    result = cache_misses_per_op()
    if not result:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 1
    for variant, c in result["per_op"].items():
        print(f"{variant:7s} " + "  ".join(f"{k} {v:.3f}" for k, v in c.items()) + "  per operation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
