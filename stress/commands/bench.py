"""``lfstress bench``: the reclamation-scheme benchmark report (real threads)."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

from ..errors import UsageError
from ._target import seconds_argument

HELP = "benchmark the queue variants and their peers on real threads; write report.md, report.json, plots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="threads 1,2,4; 3 reps of 0.1 s; a 0.5 s stall run (under a minute)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report directory (default: reports/bench-<date>/)")
    parser.add_argument("--search", action="store_true",
                        help="the bug-finding report instead: executions and seconds to the first "
                             "violation per scheduler on the built-in bug scenarios (full: 20 seeds, "
                             "10 s cap per seed; --quick: 3 seeds, 2 s)")
    group = parser.add_argument_group("overrides (of the full or --quick plan)")
    group.add_argument("--threads", default=None, help="thread counts, e.g. 1,2,4,8")
    group.add_argument("--seconds", type=seconds_argument, default=None,
                       help="seconds per measured point (--search: cap per seed)")
    group.add_argument("--seeds", type=int, default=None, help="--search: seeds per scheduler")
    group.add_argument("--schedulers", default=None, help="--search: e.g. pct,random (default: all)")
    group.add_argument("--scenarios", default=None, help="--search: scenario files or directories (default: scenarios)")
    group.add_argument("--reps", type=int, default=None, help="repetitions per point (median reported)")
    group.add_argument("--stall-seconds", type=seconds_argument, default=None, help="length of the stalled-thread run")
    group.add_argument("--stall-reps", type=int, default=None, help="repetitions of the stalled-thread run")
    group.add_argument("--variants", default=None, help="our variants, e.g. leaky,hazard (default: all but naive)")
    group.add_argument("--workloads", default=None, help="pairs,mixed,producer-consumer (default: all)")
    group.add_argument("--no-peers", action="store_true", help="skip Concurrency Kit and liburcu")


def _csv(text: str | None, convert=str) -> tuple | None:
    if text is None:
        return None
    try:
        return tuple(convert(x.strip()) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(f"expected a comma-separated list, got {text!r}") from None


def _output_directory(out: Path) -> Path:
    """The report directory, created now: a path that cannot be one is
    refused before any measurement runs."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a directory for the report")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create this directory ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in this directory")
    return out


def run(args: argparse.Namespace) -> int:
    if args.search:
        return _run_search(args)
    out = _output_directory(args.out or Path("reports") / f"bench-{datetime.date.today().isoformat()}")
    from ..bench import plots, report, runner
    from ..bench.driver import WORKLOADS

    workloads = _csv(args.workloads)
    for wl in workloads or ():
        if wl not in WORKLOADS:
            raise UsageError(f"unknown workload {wl!r} (allowed: {', '.join(WORKLOADS)})")
    plan = runner.with_overrides(
        runner.QUICK if args.quick else runner.FULL,
        threads=_csv(args.threads, int), seconds=args.seconds, reps=args.reps,
        stall_seconds=args.stall_seconds, stall_reps=args.stall_reps,
        variants=_csv(args.variants), workloads=workloads,
        peers=False if args.no_peers else None,
    )
    plan.validate()
    results = runner.run(plan)
    paths = report.write(results, out)
    for name in ("md", "json"):
        print(paths[name])
    for name in plots.PLOTS:
        if (out / name).exists():
            print(out / name)
    missing = results.peers_missing
    if missing and plan.peers:
        print("peers: " + "; ".join(f"{p} {why}" for p, why in missing.items()), file=sys.stderr)
    return 0


def _run_search(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..bench import bugfind
    from ..schedulers import SCHEDULERS

    out = _output_directory(args.out or Path("reports") / f"bench-search-{datetime.date.today().isoformat()}")
    plan = bugfind.QUICK if args.quick else bugfind.FULL
    schedulers = _csv(args.schedulers)
    for name in schedulers or ():
        if name not in SCHEDULERS:
            raise UsageError(f"unknown scheduler {name!r} (allowed: {', '.join(SCHEDULERS)})")
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    overrides = {"seeds": args.seeds, "cap_seconds": args.seconds, "schedulers": schedulers,
                 "scenarios": _csv(args.scenarios)}
    plan = replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    paths = bugfind.write(bugfind.run(plan), out)
    for name in ("md", "json", "plot"):
        if name in paths:
            print(paths[name])
    return 0
