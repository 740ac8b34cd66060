"""``lfstress build``: compile a structure file of your own into both builds
(as a scenario's ``source = "FILE.c"`` does) and list what it exports."""

from __future__ import annotations

import argparse
import json

HELP = "compile your own structure file (C, against native/include/lfstress.h) and list its structures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="FILE.c",
                        help="one C file ending with LFS_EXPORT_STRUCTURES(&a, &b, ...)")
    parser.add_argument("--force", action="store_true", help="compile even if the cache has this build")
    parser.add_argument("--json", action="store_true", help="print the structures as JSON")


def run(args: argparse.Namespace) -> int:
    from ..structures import load_source
    from ..usercode import loaded

    infos = load_source(args.source, force=args.force)
    user = loaded(infos[0].build)
    if args.json:
        print(json.dumps({"source": str(user.source), "key": user.key, "cache": str(user.directory),
                          "structures": [i.describe() for i in infos]}, indent=2))
        return 0
    if user.warnings:
        print(user.warnings)
    how = "compiled" if user.compiled else "up to date"
    print(f"{args.source}: {how}, build {user.key} (stepped and free-running, in {user.directory})")
    width = max(len(i.name) for i in infos)
    for i in infos:
        ops = ", ".join(op.name + ("(v)" if op.takes_arg else "()") for op in i.ops)
        print(f"  {i.name:<{width}}  {i.summary}")
        print(f"  {'':<{width}}  spec {i.spec}; ops {ops}"
              + (f"; options {', '.join(o.name for o in i.options)}" if i.options else ""))
        print(f"  {'':<{width}}  roles: {_roles(i)}")
    print(f'use it from a scenario: [scenario] source = "{args.source}", structure = "{infos[0].family}"')
    return 0


def _roles(info) -> str:
    """The roles in force, declared or defaulted: ``insert put, remove take;
    chain first -> last (after a sentinel), value payload, next link;
    reclaim other``."""
    field = lambda index: "-" if index is None else info.fields[index].name  # noqa: E731
    chain = "none" if info.chain_entry is None else info.chain_entry + (
        f" -> {info.chain_exit}" if info.chain_exit else "") + (" (after a sentinel)" if info.sentinel else "")
    return (f"insert {info.insert_op or '-'}, remove {info.remove_op or '-'}; chain {chain}, "
            f"value {field(info.value_field)}, next {field(info.next_field)}; reclaim {info.reclaim.scheme}")
