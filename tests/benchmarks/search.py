"""Bug-finding speed of the schedulers on the classic MS96 dequeue ABA.

Workload: stress/story.py's CLASSIC_ABA — initially (1,), T0: [dequeue],
T1: [dequeue, enqueue 2, dequeue] (2 threads, 4 operations, ~24-40 steps) —
on msqueue/naive, where it fails, and msqueue/tagged, where it cannot; and a
3-thread version (a T2 repeating T1's program).

Two measurements:

1. Executions per second per policy, three ways: the Python policy alone
   (``run_policy``: one cffi call per step, no checks), the Python policy with
   every check after each execution (what ``lfstress explore`` does), and the
   native fast path (``native/engine/search.c``: whole executions in C, the engine's
   own checks only). Fixed time per sample, samples interleaved, medians.
2. Executions and seconds to the first violation per policy over N seeds
   (explore's seeds S, S+1, ... from N well-separated starting seeds), every
   check on, no shrinking: median, min and max. ``exhaustive`` is
   deterministic (one figure). Seconds include building the execution.

Run from the checkout: python -m tests.benchmarks.search [--seconds S] [--repeat N] [--seeds N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from stress.bench.bugfind import POLICIES, SEED_STRIDE, first_violation_row, first_violation_runs
from stress.bench.machine import build_flags, machine_info, machine_markdown
from stress.checks import check_execution
from stress.schedulers import PCTPolicy, SchedulerSpec, make_policy, run_policy
from stress.search import explore
from stress.search.backends import native_params
from stress.story import story_target

FIND_CAP_SECONDS = 60.0


def _python_rate(target, name: str, seconds: float, checks: bool) -> float:
    ex = target.execution()
    if name == "hypothesis":
        from stress.schedulers.hypothesis_strategy import HypothesisSchedulePolicy
        import random
        rng = random.Random(1)
        policy = None
    else:
        policy = make_policy(name)
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        if name == "exhaustive" and not policy.has_next():
            policy = make_policy(name)
        if policy is None:  # the modulo rule over a random list: the per-execution cost, not Hypothesis's
            run_policy(ex, HypothesisSchedulePolicy([rng.randrange(256) for _ in range(30)]), n)
        else:
            run_policy(ex, policy, n)
        if checks:
            check_execution(ex)
        n += 1
    return n / (time.perf_counter() - t0)


def _hypothesis_rate(target, seconds: float) -> float:
    """Executions/s of the real thing: Hypothesis drawing schedules, every check on."""
    result = explore(target, "hypothesis", seed=1, executions=100_000, seconds=seconds,
                     stop_at_first=False, shrink=False)
    return result.stats.executions / max(result.stats.seconds, 1e-9)


def _native_rate(target, name: str, seconds: float) -> tuple[float, float]:
    ex = target.execution()
    spec = SchedulerSpec(name)
    if name == "pct":
        p = PCTPolicy()
        p.prepare(ex)
        spec = SchedulerSpec("pct", k=p.k)
    params = native_params(ex, spec)
    n = steps = 0
    seed = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        out = ex.run_native_chunk(params, seed, 5000, stop_at_violation=False)
        n += out.executions
        steps += out.steps_total
        seed += 5000
    dt = time.perf_counter() - t0
    return n / dt, steps / dt


def measure_rates(seconds: float, repeat: int) -> dict:
    cases = []
    for variant in ("naive", "tagged"):
        target = story_target("classic-aba", variant)
        for name in POLICIES:
            cases.append((variant, name, "python", target))
            cases.append((variant, name, "python+checks", target))
        for name in ("random", "pct"):
            cases.append((variant, name, "native", target))
    samples: dict[tuple, list[float]] = {c[:3]: [] for c in cases}
    step_rates: dict[tuple, list[float]] = {}
    for _ in range(repeat):
        for variant, name, path, target in cases:
            if path == "native":
                rate, srate = _native_rate(target, name, seconds)
                step_rates.setdefault((variant, name), []).append(srate)
            elif path == "python+checks" and name == "hypothesis":
                rate = _hypothesis_rate(target, seconds)
            else:
                rate = _python_rate(target, name, seconds, checks=path == "python+checks")
            samples[(variant, name, path)].append(rate)
    rows = []
    for (variant, name, path), values in samples.items():
        row = {"variant": variant, "scheduler": name, "path": path,
               "executions_per_s_median": statistics.median(values),
               "executions_per_s_min": min(values), "executions_per_s_max": max(values)}
        if path == "native":
            row["steps_per_s_median"] = statistics.median(step_rates[(variant, name)])
        rows.append(row)
    return {"rows": rows}


def measure_first_violation(seeds: int, threads: int) -> dict:
    target = story_target("classic-aba", "naive", threads=threads)
    runs = [(name, False) for name in POLICIES] + [("random", True), ("pct", True)]
    out = []
    for name, native in runs:
        row = first_violation_row(name, native, first_violation_runs(target, name, native=native, seeds=seeds,
                                                                          cap_seconds=FIND_CAP_SECONDS))
        if name == "pct":
            p = PCTPolicy()
            p.prepare(target.execution())
            row["pct_guarantee"] = p.guarantee()
        out.append(row)
    return {"threads": threads, "rows": out}


def write_report(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # a result read back from its JSON keeps the machine and build it was measured on
    result = {"machine": machine_info(),
              "build_flags": f"stepped build: {build_flags('stepped')}",
              **result}
    (out / "search-bench.json").write_text(json.dumps(result, indent=2) + "\n")

    def rate_rows(variant):
        lines = []
        for r in result["rates"]["rows"]:
            if r["variant"] != variant:
                continue
            extra = f" ({r['steps_per_s_median'] / 1e6:.1f} M steps/s)" if "steps_per_s_median" in r else ""
            lines.append(f"| {r['scheduler']} | {r['path']} | {r['executions_per_s_median']:,.0f}{extra} "
                         f"| {r['executions_per_s_min']:,.0f} – {r['executions_per_s_max']:,.0f} |")
        return "\n".join(lines)

    def find_rows(block):
        lines = []
        for r in block["rows"]:
            if not r["found"]:
                lines.append(f"| {r['scheduler']} | {r['path']} | 0/{r['seeds']} | – | – |")
                continue
            lines.append(
                f"| {r['scheduler']} | {r['path']} | {r['found']}/{r['seeds']} "
                f"| {r['executions_median']:,.0f} ({r['executions_min']:,} – {r['executions_max']:,}) "
                f"| {r['seconds_median']:.4f} ({r['seconds_min']:.4f} – {r['seconds_max']:.4f}) |")
        return "\n".join(lines)

    native_naive = {r["scheduler"]: r["executions_per_s_median"] for r in result["rates"]["rows"]
                    if r["path"] == "native" and r["variant"] == "naive"}
    pct2 = next(r for r in result["first_violation"][0]["rows"]
                if r["scheduler"] == "pct" and r["path"] == "python+checks")
    worst_native = min(native_naive.values())
    rnd2 = next(r for r in result["first_violation"][0]["rows"]
                if r["scheduler"] == "random" and r["path"] == "python+checks")
    rndn2 = next(r for r in result["first_violation"][0]["rows"]
                 if r["scheduler"] == "random" and r["path"] == "native")
    find_blocks = "\n\n".join(
        f"### {b['threads']} threads\n\n| scheduler | path | found | executions to first violation: "
        f"median (min – max) | seconds: median (min – max) |\n| --- | --- | ---: | ---: | ---: |\n"
        + find_rows(b) for b in result["first_violation"])
    text = f"""# Schedulers: executions per second and time to the first violation

Generated by `python -m tests.benchmarks.search` (tests/benchmarks/search.py); figures in
`search-bench.json`.

## Machine
{machine_markdown(result['machine'])}
- build: {result['build_flags']}
- 2 cores, shared with other work: figures are medians of interleaved samples.

## Method
Workload: the classic MS96 dequeue ABA (`stress/story.py`, `CLASSIC_ABA`): initially `(1,)`,
T0 `[dequeue]`, T1 `[dequeue, enqueue 2, dequeue]` — 2 threads, 4 operations, 24–41 steps an
execution — on `msqueue/naive` (has the bug) and `msqueue/tagged` (cannot have it).

*Executions/s*: each (variant, scheduler, path) runs {result['seconds_per_sample']} s per sample,
{result['repeat']} samples, interleaved; median and min – max. Paths:
- `python`: the Python policy drives the engine, one cffi call per step, no checks;
- `python+checks`: the same plus every check after each execution (`check_execution`: engine,
  reachability, values, linearizability) — what `lfstress explore` does. For `hypothesis` this
  row is the real thing: Hypothesis drawing the schedules (its own overhead included); the
  `python` row of `hypothesis` is the modulo rule alone, over random lists;
- `native`: `native/engine/search.c` runs whole executions in C with the same PRNG and choice rule
  (identical choices: tests/test_schedulers.py checks 1,000 seeds); only the engine's own
  checks (aba, use-after-free, ...).

*Time to first violation*: `explore(..., seed=S)` with {result['seeds']} starting seeds
S = 0, {SEED_STRIDE:,}, {2 * SEED_STRIDE:,}, ... (executions S, S+1, ... until the first failure),
every check on (native: engine checks, then the failing schedule fully checked), no shrinking;
capped at {FIND_CAP_SECONDS:.0f} s per seed. `exhaustive` is deterministic: one run. Seconds include
building the execution (and PCT's estimate of k).

## Executions per second — msqueue/naive

| scheduler | path | executions/s (median) | spread |
| --- | --- | ---: | ---: |
{rate_rows("naive")}

## Executions per second — msqueue/tagged (no violation: every execution runs to the end)

| scheduler | path | executions/s (median) | spread |
| --- | --- | ---: | ---: |
{rate_rows("tagged")}

## Time to the first violation (msqueue/naive)

{find_blocks}

## What the figures say
- Native fast path: {native_naive['random']:,.0f} (random) and {native_naive['pct']:,.0f} (pct)
  executions/s on the 2-thread, 4-operation execution: the 100,000 executions/s target is
  {"met" if worst_native >= 100_000 else "missed"}.
- PCT finds the bug in a median {pct2.get('seconds_median', float('nan')):.4f} s with every check on
  (target ≤ 0.5 s: {"met" if pct2.get('seconds_median', 99) <= 0.5 else "missed"}), after a median
  {pct2.get('executions_median', float('nan')):,.0f} executions; its guarantee for a depth-3 bug is
  p ≥ {pct2.get('pct_guarantee', 0):.2g} per execution, and this bug has depth 2 (T0 must run first;
  one change point must land on its CAS), so it does much better than the bound.
- `random` needs thousands of executions: the bug needs T1's ~17 steps to run in one window
  of T0's, which a uniform coin per step rarely gives (slowest of the {result['seeds']} seeds, 2 threads:
  {rnd2.get('seconds_max', float('nan')):.1f} s with every check on in Python, {rndn2.get('seconds_max', float('nan')):.2f} s native); URW, weighting each thread by its
  remaining steps, samples such long runs more often. Exhaustive needs one preemption and
  finds it within the first handful of executions — the minimum every shrunk failure returns to.
- With every check on, an execution costs a few hundred microseconds, mostly the checks
  (reachability walk, history, linearizability): `python+checks` against `python` shows it. The
  native path is for raw volume; the full checks run on the schedule it brings back.
"""
    (out / "search-bench.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="seconds per throughput sample")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    rates = measure_rates(args.seconds, args.repeat)
    for r in rates["rows"]:
        print(f"{r['variant']:7s} {r['scheduler']:11s} {r['path']:14s} {r['executions_per_s_median']:>12,.0f} exec/s")
    blocks = []
    for threads in (2, 3):
        block = measure_first_violation(args.seeds, threads)
        blocks.append(block)
        for r in block["rows"]:
            print(f"{threads}t {r['scheduler']:11s} {r['path']:14s} found {r['found']}/{r['seeds']} "
                  f"median {r.get('executions_median', '-')} exec, {r.get('seconds_median', float('nan')):.4f} s")
    result = {"workload": "classic MS96 dequeue ABA, msqueue naive/tagged", "seconds_per_sample": args.seconds,
              "repeat": args.repeat, "seeds": args.seeds, "rates": rates, "first_violation": blocks}
    write_report(result, args.out)
    print(f"wrote {args.out / 'search-bench.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
