"""Benchmark of the linearizability checker on small queue histories.

Run ``python -m tests.benchmarks.linearizability [--out DIR]`` (default: reports/linearizability-bench.md and .json)
from the checkout, or call ``benchmark()`` / ``benchmark_executions()``.
Synthetic histories come from tests/histories.py: linearizable by
construction, and half of them then get one dequeue result corrupted, which
usually makes them non-linearizable and exercises the failing search.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from stress.checks.linearizability import QueueSpec, check_linearizable
from tests.histories import STEP_SPACING, corrupt_one_dequeue, queue_history_from_plan, random_plan


def benchmark(samples: int = 2000, operations: int = 12, threads: int = 3, seed: int = 0) -> dict[str, float]:
    """Time ``check_linearizable`` on ``samples`` random histories; times in ms."""
    rng = random.Random(seed)
    timings: dict[bool, list[float]] = {True: [], False: []}
    spec = QueueSpec()
    for n in range(samples):
        history = queue_history_from_plan(random_plan(rng, operations, threads))
        if n % 2:
            history = corrupt_one_dequeue(rng, history)
        started = time.perf_counter()
        result = check_linearizable(history, spec, time_budget=None)
        timings[bool(result.ok)].append((time.perf_counter() - started) * 1000)
    everything = timings[True] + timings[False]
    return {
        "samples": samples,
        "operations": operations,
        "threads": threads,
        "linearizable": len(timings[True]),
        "median_ms": statistics.median(everything),
        "p99_ms": statistics.quantiles(everything, n=100)[98],
        "max_ms": max(everything),
        "median_ms_linearizable": statistics.median(timings[True]),
        "median_ms_not_linearizable": statistics.median(timings[False]) if timings[False] else float("nan"),
    }


def benchmark_executions(samples: int = 2000, seed: int = 0) -> dict[str, float]:
    """Time the checks on histories of real executions: msqueue/tagged, 3
    threads x 4 operations (12 in all), random schedules that switch thread
    at any step (so operations overlap). Times in ms: the linearizability
    check alone, and the whole ``check_execution``."""
    from stress.checks import check_execution
    from stress.checks.reachability import queue_contents
    from stress.engine import Execution

    rng = random.Random(seed)
    lin_ms: list[float] = []
    all_ms: list[float] = []
    overlapping = 0
    for _ in range(samples):
        programs = [[("enqueue", 10 * t + i) if rng.random() < 0.5 else ("dequeue", None) for i in range(4)]
                    for t in range(3)]
        ex = Execution("msqueue", "tagged", programs, initial=[1, 2], capacity=32)
        mask = ex.start()
        while mask:
            mask = ex.step(rng.choice([t for t in range(3) if mask >> t & 1]))
        history = ex.history()
        overlapping += any(a.tid != b.tid and not a.precedes(b) and not b.precedes(a)
                           for a in history for b in history)
        final = queue_contents(ex.snapshot())
        started = time.perf_counter()
        check_linearizable(history, QueueSpec(), initial=tuple(ex.initial), time_budget=None)
        lin_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        check_execution(ex, linearizability_budget=None)
        all_ms.append((time.perf_counter() - started) * 1000)
        assert final is not None
    return {
        "samples": samples,
        "operations": 12,
        "threads": 3,
        "with_overlap": overlapping,
        "median_ms": statistics.median(lin_ms),
        "p99_ms": statistics.quantiles(lin_ms, n=100)[98],
        "max_ms": max(lin_ms),
        "check_execution_median_ms": statistics.median(all_ms),
        "check_execution_p99_ms": statistics.quantiles(all_ms, n=100)[98],
    }


LIMIT_MS = 50.0
REPORT = "linearizability-bench"  # .md and .json


def write_report(result: dict, out: Path) -> None:
    """Write REPORT.md and REPORT.json into ``out`` from ``{"synthetic": ..., "real": ...}`` (a
    result read back from its JSON keeps the machine it was measured on)."""
    from stress.bench.machine import machine_info, machine_markdown

    result = {"machine": machine_info(), **result}
    synthetic, real = result["synthetic"], result["real"]
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{REPORT}.json").write_text(json.dumps(result, indent=2) + "\n")
    verdict = "meets" if max(synthetic["median_ms"], real["median_ms"]) < LIMIT_MS else "MISSES"
    text = f"""# Linearizability checker: 12 operations over 3 threads

## Machine
{machine_markdown(result['machine'])}

## Method
`python -m tests.benchmarks.linearizability` (tests/benchmarks/linearizability.py; the numbers below are from one run).

- *Synthetic*: {synthetic['samples']} random FIFO histories of {synthetic['operations']} operations
  over {synthetic['threads']} threads, built from a sequential queue with each operation's interval
  stretched up to {3 * STEP_SPACING} steps around its linearisation point (so they overlap
  heavily); every other one has one dequeue result corrupted, which usually makes it
  non-linearizable and exercises the failing search ({synthetic['linearizable']} came out linearizable).
- *Real*: {real['samples']} executions of `msqueue/tagged`, 3 threads x 4 random operations,
  random schedules switching thread at any step ({real['with_overlap']} of them have overlapping
  operations). Timed: `check_linearizable` alone, and the whole `check_execution`
  (engine violations, reachability, conservation, linearizability, garbage).

Wall-clock `time.perf_counter()` around each call, no time budget; medians and 99th percentiles.
This machine has 2 cores and is shared: the tails are noisy, the medians are not.

| histories | median (ms) | p99 (ms) | max (ms) |
| --- | ---: | ---: | ---: |
| synthetic, all | {synthetic['median_ms']:.3f} | {synthetic['p99_ms']:.3f} | {synthetic['max_ms']:.3f} |
| synthetic, linearizable | {synthetic['median_ms_linearizable']:.3f} | | |
| synthetic, not linearizable | {synthetic['median_ms_not_linearizable']:.3f} | | |
| real executions: `check_linearizable` | {real['median_ms']:.3f} | {real['p99_ms']:.3f} | {real['max_ms']:.3f} |
| real executions: whole `check_execution` | {real['check_execution_median_ms']:.3f} | {real['check_execution_p99_ms']:.3f} | |

## What the figures say
The requirement is under {LIMIT_MS:.0f} ms for a 12-operation, 3-thread history: the checker
{verdict} it, with a median of {max(synthetic['median_ms'], real['median_ms']):.2f} ms; the
slowest of {synthetic['samples'] + real['samples']} histories took
{max(synthetic['max_ms'], real['max_ms']):.2f} ms. The whole `check_execution` that explorers
call after every execution has a median of {real['check_execution_median_ms']:.2f} ms on these
executions.
"""
    (out / f"{REPORT}.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Benchmark the linearizability checker.")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("reports"),
                        help="report directory (default: reports): linearizability-bench.md and .json")
    args = parser.parse_args(argv)
    synthetic = benchmark(samples=args.samples)
    real = benchmark_executions(samples=args.samples)
    for name, figure in {**{f"synthetic {k}": v for k, v in synthetic.items()},
                         **{f"real {k}": v for k, v in real.items()}}.items():
        print(f"{name:40} {figure:.3f}" if isinstance(figure, float) else f"{name:40} {figure}")
    write_report({"synthetic": synthetic, "real": real}, args.out)
    print(f"wrote {args.out / REPORT}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
