"""What supervision costs: executions/s of the default search (pct, stepped
from Python, every check) run in this process and run in supervised workers
(stress/search/supervised.py: the seed in flight published before each
execution, the harness checked after it, chunks and results over a pipe).

Workloads: the classic MS96 dequeue ABA (``lfstress explore --story
classic-aba --variant naive``), counting on past every failure; and a clean
4-thread one (``--story classic-aba --variant tagged --threads 4``). Each
sample is one ``explore`` with a time budget, not stopping at failures, no
shrinking; the two ways alternate, so noise on the shared machine hits both
alike; medians. A sample's seconds include starting the workers.

Run from the checkout: python -m tests.benchmarks.supervision [--seconds S] [--repeat N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from stress.bench.machine import machine_info, machine_markdown
from stress.search import explore
from stress.story import story_target

TARGET_RATIO = 0.9      # supervised executions/s at least this fraction of in-process
WORKLOADS = {           # name: (the explore command it measures, story, variant, threads)
    "classic ABA": ("lfstress explore --story classic-aba --variant naive", "classic-aba", "naive", None),
    "clean, 4 threads": ("lfstress explore --story classic-aba --variant tagged --threads 4",
                         "classic-aba", "tagged", 4),
}
WAYS = {"in process": None, "supervised": "supervised"}


def measure(seconds: float, repeat: int) -> dict:
    samples: dict[str, dict[str, list[float]]] = {w: {way: [] for way in WAYS} for w in WORKLOADS}
    for sample in range(repeat):
        for workload, (_, story, variant, threads) in WORKLOADS.items():
            target = story_target(story, variant, threads=threads)
            for way, backend in WAYS.items():
                result = explore(target, "pct", seed=sample * 1_000_000, seconds=seconds, backend=backend,
                                 stop_at_first=False, shrink=False)
                samples[workload][way].append(result.stats.executions / result.stats.seconds)
    summary = {}
    for workload, ways in samples.items():
        medians = {way: statistics.median(rates) for way, rates in ways.items()}
        summary[workload] = {"command": WORKLOADS[workload][0], "medians": medians,
                             "ratio": medians["supervised"] / medians["in process"]}
    return {"machine": machine_info(), "seconds_per_sample": seconds, "repeat": repeat,
            "samples": samples, "summary": summary}


def write_report(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "supervision.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = "\n".join(
        f"| {workload} | `{s['command']}` | {s['medians']['in process']:,.0f} | {s['medians']['supervised']:,.0f} "
        f"| {s['ratio']:.2f} |"
        for workload, s in result["summary"].items())
    worst = min(s["ratio"] for s in result["summary"].values())
    verdict = "meets" if worst >= TARGET_RATIO else "misses"
    text = f"""# Supervision overhead

## Machine
{machine_markdown(result['machine'])}

## Method
The default search (pct, stepped from Python, every check after each execution), run by
`explore` in the process that started it and by supervised workers (`--isolate`,
`backend="supervised"`). Each sample is one search of {result['seconds_per_sample']:g} s that counts on
past failures and does not shrink; {result['repeat']} samples per way, the two ways alternating so
that noise on this shared machine hits both alike; medians of executions/s. A supervised sample's
seconds include forking its worker.

| workload | command | in process (executions/s) | supervised (executions/s) | ratio |
| --- | --- | ---: | ---: | ---: |
{rows}

## What the figures say
The lowest ratio is {worst:.2f}, which {verdict} the target of {TARGET_RATIO:g}x. Per execution a
worker stores its seed, a heartbeat and the chunk's figures so far in shared memory and makes
five system calls that never block (is it still the worker, is a child left, an alarm pending,
stdout and stderr open); per chunk of executions it pickles the chunk and its result over a pipe.
Both are small beside an execution's cffi call per step and its checks.
"""
    (out / "supervision.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per sample")
    parser.add_argument("--repeat", type=int, default=5, help="samples per workload and way")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.repeat)
    write_report(result, args.out)
    for workload, s in result["summary"].items():
        print(f"{workload:18s} in process {s['medians']['in process']:>8,.0f}/s  "
              f"supervised {s['medians']['supervised']:>8,.0f}/s  ratio {s['ratio']:.2f}")
    print(f"wrote {args.out / 'supervision.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
