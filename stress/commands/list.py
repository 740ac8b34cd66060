"""``lfstress list``: structures, variants with their options, scenarios."""

from __future__ import annotations

import argparse
import json

from ..scenario import BUILTIN_SCENARIOS, discover, load
from ..structures import catalogue

HELP = "list structures, variants with their options, and the built-in scenarios"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    shown = list(catalogue().values())
    structures = [s.describe() for s in shown]
    scenarios = []
    for path in discover([BUILTIN_SCENARIOS]) if BUILTIN_SCENARIOS.is_dir() else []:
        sc = load(path)
        scenarios.append({"file": path.name, "description": sc.description,
                          "variants": {p.name: p.expect for p in sc.variants}})
    if args.json:
        print(json.dumps({"structures": structures, "scenarios": scenarios}, indent=2))
        return 0
    print("structures:")
    for s in shown:
        print(f"  {s.name:<18} {s.summary}")
        for o in s.options:
            print(f"  {'':<20}{o.name} = {o.default}  ({o.min}..{o.max}) {o.help}")
    if scenarios:
        print("\nscenarios:")
        for sc in scenarios:
            print(f"  {sc['file']:<30} {sc['description']}")
            print(f"  {'':<32}" + ", ".join(f"{v}: {e}" for v, e in sc["variants"].items()))
    return 0
