"""``lfstress run``: run scenario files and judge every scenario × variant."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from ..errors import UsageError
from ..scenario import BUILTIN_SCENARIOS, SCHEDULER_NAMES, discover, load
from ._isolate import add_isolation_arguments, ended_text, with_supervisor
from ._target import parse_budget

HELP = "run scenarios (default: the built-in suite) and check every expectation"
QUICK_BUDGET = 200
FIRST_LOOK = ("essay_story.toml", "naive")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories (default: scenarios/)")
    parser.add_argument("--variant", action="append", default=None, help="only this variant (repeatable)")
    parser.add_argument("--scheduler", default=None, help=f"one of {', '.join(SCHEDULER_NAMES)} instead of each scenario's portfolio")
    parser.add_argument("--budget", default=None, help='per item: executions ("500") or seconds ("5s")')
    parser.add_argument("--seed", default=None, help="seed for every search (default: each scenario's own)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per search")
    parser.add_argument("--json", action="store_true", help="one JSON object per line, as results come")
    parser.add_argument("--report", action="store_true", help="print the full failure report of every bug found")
    parser.add_argument("--quick", action="store_true",
                        help=f"a first look: {QUICK_BUDGET} executions per item, then the essay's story, reported")
    add_isolation_arguments(parser)


def _seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        seed = int(text)
    except ValueError:
        raise UsageError(f"--seed must be a whole number, got {text!r}") from None
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be between 0 and 2^63-1, got {seed}")
    return seed


def run(args: argparse.Namespace) -> int:
    return with_supervisor(args, _run, args.jobs)


def _run(args: argparse.Namespace, supervisor) -> int:
    from ..suite import run_variant

    seed = _seed(args.seed)
    if args.scheduler is not None and args.scheduler not in SCHEDULER_NAMES:
        raise UsageError(f"--scheduler must be one of {', '.join(SCHEDULER_NAMES)}, got {args.scheduler!r}")
    executions, seconds = parse_budget(args.budget) if args.budget is not None else (None, None)
    if args.quick and args.budget is None:
        executions = QUICK_BUDGET
    if not 1 <= args.jobs <= 256:
        raise UsageError(f"--jobs must be between 1 and 256, got {args.jobs}")
    paths = args.paths or [BUILTIN_SCENARIOS]
    scenarios = [load(p) for p in discover(paths)]   # every file validated before anything runs
    if not scenarios:
        raise UsageError(f"no scenario files under {', '.join(map(str, paths))}")
    items = [(sc, plan) for sc in scenarios for plan in sc.variants
             if not args.variant or plan.name in args.variant or plan.variant in args.variant]
    if not items:
        raise UsageError(f"no variant named {', '.join(args.variant)} in these scenarios")
    tty = sys.stdout.isatty() and not args.json
    results = []
    interrupted = False
    terminated = []   # SIGTERM ends the run as Ctrl-C does: the summary of what finished is printed

    def on_sigterm(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        for n, (sc, plan) in enumerate(items, 1):
            if tty:
                print(f"\r[{n}/{len(items)}] {sc.path.name}::{plan.name} ...", end="", flush=True)
            outcome = run_variant(sc, plan.name, seed=seed,
                                  schedulers=(args.scheduler,) if args.scheduler else None,
                                  executions=executions, seconds=seconds, jobs=args.jobs, backend=supervisor)
            results.append(outcome)
            if args.json:
                print(json.dumps(outcome.to_json()), flush=True)
            elif tty:
                print("\r\033[K", end="")
            if outcome.stats.interrupted:  # Ctrl-C inside the search: it kept what it found
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = True
        if tty:
            print("\r\033[K", end="")
        how = "terminated (SIGTERM)" if terminated else "interrupted (Ctrl-C)"
        print(f"{how} after {len(results)} of {len(items)} items: results so far "
              + ("above" if args.json else "below"), file=sys.stderr)
        if args.json:
            print(json.dumps({"interrupted": True, "items_done": len(results), "items": len(items)}), flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not args.json:
        _summary(results)
        for o in results:
            first_look = args.quick and (o.scenario.path.name, o.plan.name) == FIRST_LOOK
            if first_look:
                print("\nFirst look — the essay's story: a late cleanup write lands in a reallocated node")
            if o.failure is not None and (args.report or not o.ok or first_look):
                print()
                print(_report(o, supervisor))
    if interrupted:
        return 128 + signal.SIGTERM if terminated else 130
    return 0 if results and all(o.ok for o in results) and len(results) == len(items) else 1


def _report(outcome, supervisor) -> str:
    """An item's failure report: rendered by re-running it, in a worker under
    --isolate; only what is known when the execution ended its worker."""
    from ..search.supervised import WorkerEnded, ended, ended_failure
    failure = outcome.failure
    if ended(failure):
        return ended_text(failure)
    if supervisor is None:
        return _report_here(failure, outcome.replay_command())
    try:
        return supervisor.call(_report_here, failure, outcome.replay_command())
    except WorkerEnded as exc:
        return ended_text(ended_failure(failure.target, failure.choices, exc.kind, exc.message))


def _report_here(failure, replay_command: str) -> str:
    from ..report import format_report
    ex = failure.target.execution()
    ex.run(failure.choices)
    return format_report(ex, replay_command=replay_command)


def _summary(results) -> None:
    width = max((len(o.item_id) for o in results), default=10)
    print(f"{'scenario::variant':<{width}}  expect  found  ok    execs   secs  verdict")
    for o in results:
        ok = "ok" if o.ok else ("int." if o.stats.interrupted else "FAIL")
        print(f"{o.item_id:<{width}}  {o.plan.expect:<6}  {o.outcome:<5}  {ok:<4} "
              f"{o.stats.executions:>7} {o.stats.seconds:>6.1f}  {o.verdict()}")
        if o.failure is not None:
            print(f"{'':<{width}}  replay: {o.replay_command()}")
        elif o.warnings():
            print(f"{'':<{width}}  coverage: {o.stats.coverage.line()}")
    bad = sum(not o.ok and not o.stats.interrupted for o in results)
    cut = sum(not o.ok and o.stats.interrupted for o in results)
    print(f"{len(results)} items: {len(results) - bad - cut} as expected, {bad} not"
          + (f", {cut} interrupted" if cut else ""))
