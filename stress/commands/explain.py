"""``lfstress explain TOKEN``: the full readable report of one execution."""

from __future__ import annotations

import argparse

from ..errors import UsageError

HELP = "print the full failure report (per-thread steps, queue before/after, provenance) of a token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", help="a replay token printed by run / explore / pytest")
    parser.add_argument("--json", action="store_true", help="the report as JSON (documented schema)")
    parser.add_argument("--max-rows", type=int, default=400, help="table rows before eliding (default 400)")


def run(args: argparse.Namespace) -> int:
    from ..checks import check_execution
    from ..report import build_report
    from ..token import decode

    if args.max_rows < 10:
        raise UsageError(f"--max-rows must be at least 10, got {args.max_rows}")
    token = decode(args.token)
    ex = token.target.execution()
    ex.run(token.choices)
    result = check_execution(ex)
    if result.ok:
        print(f"clean: the execution ({len(token.choices)} steps) passed every check")
        return 0
    report = build_report(ex, result, choices=token.choices, token=args.token,
                          replay_command=f"lfstress replay {args.token}")
    print(report.json_text() if args.json else report.text(max_rows=args.max_rows))
    return 1
