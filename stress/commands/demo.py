"""``lfstress demo``: replay one of the stories step by step and say what broke."""

from __future__ import annotations

import argparse

from ..checks import check_execution
from ..checks.reachability import draw_queue
from ..errors import UsageError
from ..story import STORIES
from ..structures import lookup

HELP = "replay the essay's story (or the classic ABA) step by step on a queue variant"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("story", nargs="?", default="essay", help=f"one of: {', '.join(STORIES)} (default: essay)")
    parser.add_argument("--variant", default=None,
                        help="queue variant (default: naive, then hazard to show the fix)")


def run(args: argparse.Namespace) -> int:
    if args.story not in STORIES:
        raise UsageError(f"unknown story {args.story!r} (allowed: {', '.join(STORIES)})")
    story = STORIES[args.story]
    variants = [args.variant] if args.variant else ["naive", "hazard"]
    found_any = False
    for variant in variants:
        # Reclaim eagerly: the scheme's threshold at 1, so freed nodes come back at once.
        threshold = lookup("msqueue", variant).reclaim.threshold_option
        options = {threshold: 1} if threshold else {}
        ex = story.execution(variant, options=options)
        choices = story.build(ex)
        print(f"=== {story.title}")
        print(f"    variant msqueue/{variant}, options {ex.options}, initial contents {list(story.initial)}")
        print(f"    schedule ({len(choices)} steps): " + "".join(str(c) for c in choices))
        print()
        result = check_execution(ex)
        if result.ok:
            print(ex.trace_text(), end="")
            print(f"\n    queue after:  {draw_queue(ex.snapshot())}")
            print("    clean: no violation\n")
            continue
        from ..report import format_report
        found_any = True
        print(format_report(ex, result, choices=choices))
        print()
    return 1 if found_any else 0
