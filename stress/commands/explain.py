"""``lfstress explain TOKEN``: the full readable report of one execution."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from ._isolate import add_isolation_arguments, run_in_worker

HELP = "print the full failure report (per-thread steps, queue before/after, provenance) of a token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", help="a replay token printed by run / explore / pytest")
    parser.add_argument("--source", default=None, metavar="FILE.c",
                        help="the C file of the token's structure, when it is one of your own and the "
                             "token's file has moved")
    parser.add_argument("--json", action="store_true", help="the report as JSON (documented schema)")
    parser.add_argument("--max-rows", type=int, default=400, help="table rows before eliding (default 400)")
    add_isolation_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_in_worker(args, _run)


def _run(args: argparse.Namespace) -> int:
    from ..replay import NotDeterministic, replay
    from ..report import build_report
    from ..token import decode
    from .replay import EXIT_NOT_DETERMINISTIC

    if args.max_rows < 10:
        raise UsageError(f"--max-rows must be at least 10, got {args.max_rows}")
    token = decode(args.token)
    try:
        done = replay(token, source=args.source)
    except NotDeterministic as exc:
        print(f"lfstress explain: {exc}", file=sys.stderr)
        return EXIT_NOT_DETERMINISTIC
    for note in done.notes:
        print(note, file=sys.stderr if args.json else sys.stdout)
    if done.result.ok:
        print(f"clean: the execution ({len(done.choices)} steps) passed every check")
        return 0
    report = build_report(done.ex, done.result, choices=done.choices, token=done.token,
                          replay_command=f"lfstress replay {done.token}")
    print(report.json_text() if args.json else report.text(max_rows=args.max_rows))
    return 1
