"""``lfstress replay``: re-run one execution from its token (or its seed),
print its trace and what the checks found."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from ._isolate import add_isolation_arguments, run_in_worker
from ._target import add_scheduler_arguments, add_target_arguments, target_from_args

HELP = ("re-run an execution from its replay token (or --story/--variant/--scheduler/--seed); "
        "exit 1 if it violates, 0 if clean, 2 if the token no longer fits what it ran (changed since), "
        "3 if the code under test is not deterministic")

EXIT_NOT_DETERMINISTIC = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", nargs="?", default=None, help="the token printed by `lfstress explore`")
    add_target_arguments(parser)
    add_scheduler_arguments(parser, default=None)
    parser.add_argument("--trace", action="store_true",
                        help="also print the raw trace (one event a line) before the report")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_isolation_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_in_worker(args, _run)


def _run(args: argparse.Namespace) -> int:
    from ..replay import NotDeterministic, replay, replay_seed
    from ..token import decode

    if args.token is not None:
        if args.story or args.scenario or args.seed is not None or args.scheduler:
            raise UsageError("give either a token or --story/--scenario with --variant/--scheduler/--seed, not both")
        token = decode(args.token)
        try:
            done = replay(token, source=args.source)
        except NotDeterministic as exc:
            print(f"lfstress replay: {exc}", file=sys.stderr)
            return EXIT_NOT_DETERMINISTIC
        seed = None
    else:
        if (args.story is None and args.scenario is None) or args.scheduler is None or args.seed is None:
            raise UsageError("replay needs a token, or --story/--scenario, --scheduler and --seed "
                             "(and --variant, default naive)")
        if not 0 <= args.seed < 2**63:
            raise UsageError(f"--seed must be between 0 and 2^63-1 (explore's seeds), got {args.seed}")
        target = target_from_args(args)
        done = replay_seed(target, args.scheduler, args.seed, depth=args.depth, k=args.k)
        seed = args.seed

    for note in done.notes:
        print(note, file=sys.stderr if args.json else sys.stdout)
    replay_command = f"lfstress replay {done.token}"
    if args.json:
        if done.result.ok:
            import json
            print(json.dumps({"structure": done.target.structure, "status": done.ex.status,
                              "violations": [], "token": done.token, "seed": seed}, indent=2))
        else:
            from ..report import build_report
            print(build_report(done.ex, done.result, choices=done.choices, token=done.token,
                               replay_command=replay_command, seed=seed).json_text(), end="")
        return 0 if done.result.ok else 1
    if args.trace or done.result.ok:
        print(f"replay {done.target.structure} {dict(done.target.options)}: "
              f"{done.target.describe_programs()}; {len(done.choices)} steps, {done.ex.status}")
        print(done.trace, end="")
    if done.result.ok:
        print("clean: no violation")
        return 0
    from ..report import format_report
    print(format_report(done.ex, done.result, choices=done.choices, token=done.token,
                        replay_command=replay_command, seed=seed), end="")
    return 1
