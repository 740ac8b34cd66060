"""Arguments shared by `explore` and `replay`: which execution."""

from __future__ import annotations

import argparse
import math
import re

from .. import _defaults
from ..errors import UsageError


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    from ..story import STORIES
    group = parser.add_argument_group("what to run")
    group.add_argument("--story", default=None, help=f"a built-in story: {', '.join(STORIES)}")
    group.add_argument("--scenario", default=None, metavar="FILE",
                       help="a scenario file (its --variant is an item name, e.g. tagged-1bit)")
    group.add_argument("--source", default=None, metavar="FILE.c",
                       help="the C file of a structure of your own (for a scenario that does not "
                            "name it, or a token whose file has moved)")
    group.add_argument("--variant", default="naive", help="structure variant or scenario item (default: naive)")
    group.add_argument("--threads", type=int, default=None,
                       help="run the story with more threads (extra ones repeat the last thread's program)")
    group.add_argument("-o", "--option", action="append", default=[], metavar="NAME=VALUE",
                       help="structure option (repeatable); stories reclaim eagerly: "
                            "hp_threshold=1, epoch_threshold=1 unless set here")
    group.add_argument("--capacity", type=int, default=_defaults.CAPACITY,
                       help=f"node pool slots (default: {_defaults.CAPACITY})")
    group.add_argument("--step-cap", type=int, default=_defaults.STEP_CAP,
                       help=f"steps before an execution counts as a livelock (default: {_defaults.STEP_CAP})")


def add_scheduler_arguments(parser: argparse.ArgumentParser, *, default: str | None = "pct") -> None:
    from ..schedulers import SCHEDULERS
    group = parser.add_argument_group("scheduler")
    group.add_argument("--scheduler", default=default, choices=SCHEDULERS,
                       help=f"scheduling policy (default: {default})")
    group.add_argument("--seed", type=int, default=None, help="seed (explore: of the first execution)")
    group.add_argument("--depth", type=int, default=3, help="pct: bug depth d (d-1 change points; default 3)")
    group.add_argument("--k", type=int, default=None,
                       help="pct: estimated steps per execution (default: from a solo run)")


def parse_options(items: list[str]) -> dict[str, int]:
    options = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"option {item!r} should be NAME=VALUE, e.g. -o hp_threshold=1")
        try:
            options[name.strip()] = int(value, 0)
        except ValueError:
            raise UsageError(f"option {name.strip()!r} needs an integer value, got {value!r}") from None
    return options


def target_from_args(args: argparse.Namespace):
    from ..story import story_target
    if (args.story is None) == (args.scenario is None):
        raise UsageError("say what to run: --story NAME or --scenario FILE (one of them)")
    if args.source is not None:
        if args.scenario is None:
            raise UsageError("--source goes with --scenario FILE (or a token): a story runs a built-in queue")
        from ..structures import load_source
        load_source(args.source)
    if args.scenario is not None:
        return _scenario_target(args)
    return story_target(args.story, args.variant, options=parse_options(args.option),
                        capacity=args.capacity, step_cap=args.step_cap, threads=args.threads)


_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|x|)\s*$")


def seconds_argument(text: str) -> float:
    """argparse type of a duration: a finite number of seconds, positive and
    at most MAX_SECONDS."""
    from ..scenario import MAX_SECONDS

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:  # nan and inf fail here too
        raise argparse.ArgumentTypeError(f"a number of seconds, positive and at most {MAX_SECONDS:,.0f} "
                                         f"(a day), got {text!r}")
    return value


def count_argument(text: str) -> int:
    """argparse type of a count: a whole number, 0 or more, below 2^63."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"a whole number, 0 or more (and below 2^63), got {text!r}")
    return value


def parse_budget(text: str, *, flag: str = "--budget") -> tuple[int | None, float | None]:
    """``10s``, ``500ms``, ``2m``, ``5000`` (executions), or both: ``5000,10s``.
    Each part is positive and at most MAX_EXECUTIONS executions or
    MAX_SECONDS seconds; one rule for every command that takes a budget."""
    from ..scenario import MAX_EXECUTIONS, MAX_SECONDS

    usage = (f"{flag} {text!r}: use a number of executions (5000), a time (10s, 500ms, 2m) "
             f"or both (5000,10s)")
    parts = text.split(",")
    if len(parts) > 2:
        raise UsageError(usage)
    executions = seconds = None
    for part in parts:
        m = _BUDGET.match(part)
        if not m:
            raise UsageError(usage)
        number, unit = m.groups()
        if unit in ("", "x"):
            if "." in number:
                raise UsageError(f"{flag} {text!r}: a number of executions is a whole number")
            if executions is not None:
                raise UsageError(usage)
            executions = int(number)
            if not 1 <= executions <= MAX_EXECUTIONS:
                raise UsageError(f"{flag} {text!r}: executions must be at least 1 and at most {MAX_EXECUTIONS:,}")
        else:
            if seconds is not None:
                raise UsageError(usage)
            seconds = float(number) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]
            if not 0 < seconds <= MAX_SECONDS:
                raise UsageError(f"{flag} {text!r}: a time must be positive and at most {MAX_SECONDS:,.0f} s (a day)")
    return executions, seconds


def _scenario_target(args: argparse.Namespace):
    """A scenario item as a Target; -o options override the item's. Generated
    programs are drawn as the suite's first round draws them (seed 0)."""
    from dataclasses import replace

    from ..scenario import load
    from ..suite import round_target
    if args.threads is not None:
        raise UsageError("--threads goes with --story; a scenario file says its own threads")
    scenario = load(args.scenario)
    target = round_target(scenario, scenario.plan(args.variant).name, 0, 0)
    options = {**dict(target.options), **parse_options(args.option)}
    return replace(target, options=tuple(sorted(options.items())))
