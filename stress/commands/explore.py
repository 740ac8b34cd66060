"""``lfstress explore``: search for a failing interleaving, shrink it, print
the replay token."""

from __future__ import annotations

import argparse
import json
import shlex

from .. import _defaults
from ..errors import UsageError
from ._isolate import add_isolation_arguments, ended_text, with_supervisor
from ._target import add_scheduler_arguments, add_target_arguments, parse_budget, target_from_args

HELP = "run many executions under a scheduler; on failure: the violation, shrunk, and its replay token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_scheduler_arguments(parser)
    group = parser.add_argument_group("search")
    group.add_argument("--budget", default="10s",
                       help="executions (5000), time (10s, 500ms) or both (5000,10s); default 10s")
    group.add_argument("--jobs", type=int, default=1,
                       help="worker processes splitting the seed space (same result as serial)")
    group.add_argument("--native", action="store_true",
                       help="random/pct only: run executions in C; stops on what the engine sees "
                            "(aba, use-after-free, ...), then checks the failing one fully")
    group.add_argument("--keep-going", action="store_true",
                       help="do not stop at the first failure: count violating executions over the budget")
    group.add_argument("--max-preemptions", type=int, default=None,
                       help="exhaustive: stop deepening past this bound")
    group.add_argument("--no-shrink", action="store_true", help="report the failure as found")
    group.add_argument("--shrink-budget", default="2000,5s",
                       help="shrinking attempts and/or time (default: 2000,5s)")
    group.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_isolation_arguments(parser)


def _replay_command(token: str, isolate: bool = False) -> str:
    """The command that replays a token; in a worker when its execution ended one."""
    return f"lfstress replay {'--isolate ' if isolate else ''}{token}"


def run(args: argparse.Namespace) -> int:
    return with_supervisor(args, _run, args.jobs)


def _run(args: argparse.Namespace, supervisor) -> int:
    from ..search import explore

    if args.max_preemptions is not None and args.max_preemptions < 0:
        raise UsageError(f"--max-preemptions must be 0 or more, got {args.max_preemptions}")
    target = target_from_args(args)
    executions, seconds = parse_budget(args.budget)
    shrink_attempts, shrink_seconds = parse_budget(args.shrink_budget, flag="--shrink-budget")
    seed = args.seed if args.seed is not None else 0
    result = explore(
        target, args.scheduler, seed=seed, executions=executions, seconds=seconds, jobs=args.jobs,
        native=args.native, stop_at_first=not args.keep_going, shrink=not args.no_shrink,
        shrink_attempts=shrink_attempts or 2000, shrink_seconds=shrink_seconds or 5.0,
        depth=args.depth, k=args.k, max_preemptions=args.max_preemptions, example_database=True,
        backend=supervisor,
    )
    failure = result.reported
    from ..search.supervised import ended
    isolate = failure is not None and ended(failure)
    if args.json:
        out = {
            "structure": target.structure, "options": dict(target.options), "scenario": target.scenario,
            "scheduler": args.scheduler, "seed": seed, "native": args.native, "jobs": args.jobs,
            "stats": result.stats.to_json(), "notes": result.notes, "failure": None,
            "interrupted": result.stats.interrupted,
            "warnings": [w.to_json() for w in result.warnings()],
        }
        if failure is not None:
            out["failure"] = {
                "kind": failure.kind, "message": failure.result.violations[0].message,
                "kinds": sorted(failure.result.kinds), "seed": result.failure.seed,
                "steps": failure.steps, "preemptions": failure.preemptions, "token": failure.token,
                "replay": _replay_command(failure.token, isolate),
                "found": {"steps": result.failure.steps, "preemptions": result.failure.preemptions,
                          "token": result.failure.token},
                "shrink": result.shrunk.to_json() if result.shrunk is not None else None,
            }
        print(json.dumps(out, indent=2))
        return _status(result)

    how = args.scheduler + (" (native)" if args.native else "")
    if args.scheduler == "pct":
        how += f" depth {result.scheduler.depth}, k {result.scheduler.k}"
    print(f"explore {target.structure} {dict(target.options)} — {target.scenario}: {target.describe_programs()}")
    print(f"scheduler {how}, seed {seed}, budget {args.budget}, jobs {args.jobs}")
    for line in result.stats.lines():
        print("  " + line)
    for note in result.notes:
        print(f"  note: {note}")
    if failure is None:
        if result.stats.interrupted:
            print("interrupted: no violation found in what ran")
        elif result.stats.bound is not None:
            print(f"no violation found: {result.stats.exhaustive_summary()}")
        else:
            print("no violation found within the budget")
        if result.warnings():
            from ..coverage import clean_but
            print(clean_but(result.warnings()))
        return _status(result)
    found = result.failure
    print()
    print(f"FAILED: {found.kind} — {found.result.violations[0].message}")
    seed_text = f"seed {found.seed}" if found.seed is not None else f"explore seed {seed}"
    print(f"  found by {args.scheduler} ({seed_text}): {found.steps} steps, {found.preemptions} preemption(s)")
    if result.shrunk is not None:
        print("  " + result.shrunk.line())
    print()
    print(_report(failure, found.seed, supervisor), end="")
    print()
    print(f"token: {failure.token}")
    if found.seed is not None and args.scheduler in ("random", "pct", "urw"):
        what = ["--story", args.story] if args.story else ["--scenario", args.scenario]
        if args.source:
            what += ["--source", args.source]
        seed_cmd = ["lfstress", "replay", *what, "--variant", args.variant,
                    "--scheduler", args.scheduler, "--seed", str(found.seed)]
        if args.threads:
            seed_cmd += ["--threads", str(args.threads)]
        for item in args.option:
            seed_cmd += ["-o", item]
        if args.capacity != _defaults.CAPACITY:
            seed_cmd += ["--capacity", str(args.capacity)]
        if args.step_cap != _defaults.STEP_CAP:
            seed_cmd += ["--step-cap", str(args.step_cap)]
        if isolate:
            seed_cmd += ["--isolate"]
        if args.scheduler == "pct":
            seed_cmd += ["--depth", str(result.scheduler.depth), "--k", str(result.scheduler.k)]
        print(f"seed:  {found.seed} (as found, before shrinking: {shlex.join(seed_cmd)})")
    print(f"replay: {_replay_command(failure.token, isolate)}")
    return _status(result)


def _report(failure, seed: int | None, supervisor) -> str:
    """The failure's report: rendered by re-running it, in a worker under
    --isolate; only what is known when the execution ended its worker."""
    from ..search.supervised import WorkerEnded, ended, ended_failure
    if ended(failure):
        return ended_text(failure)
    if supervisor is None:
        return _report_here(failure, seed)
    try:
        return supervisor.call(_report_here, failure, seed)
    except WorkerEnded as exc:
        return ended_text(ended_failure(failure.target, failure.choices, exc.kind, exc.message, seed=seed))


def _report_here(failure, seed: int | None) -> str:
    from ..report import format_report
    from ..schedulers import run_choices
    ex = failure.target.execution()
    run_choices(ex, failure.choices)
    return format_report(ex, failure.result, choices=failure.choices, token=failure.token,
                         replay_command=_replay_command(failure.token), seed=seed)


def _status(result) -> int:
    """0 nothing found, 1 a failure, 130 interrupted by Ctrl-C (whatever was found is printed)."""
    if result.stats.interrupted:
        return 130
    return 1 if result.reported is not None else 0
