"""``lfstress stress``: a queue variant on real threads, then conservation,
pool accounting and reachability audits (stress/bench/realstress.py)."""

from __future__ import annotations

import argparse
import json
import shlex

from ..errors import LfstressError
from ._target import count_argument, parse_options, seconds_argument

HELP = "run a variant free on real threads for a while, then audit values, pool and structure"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", required=True, help="msqueue variant (naive is refused: see its message)")
    parser.add_argument("--seconds", type=seconds_argument, default=10.0, help="duration (default: 10)")
    parser.add_argument("--ops", type=count_argument, default=0, help="stop each thread after this many operations")
    parser.add_argument("--threads", type=int, default=4, help="pthreads (default: 4)")
    parser.add_argument("--workload", default="pairs",
                        help="pairs (default: enqueue then dequeue, so freed nodes come back to the "
                             "head at once), mixed or producer-consumer")
    parser.add_argument("--prefill", type=count_argument, default=0, help="values in the queue at the start (default: 0)")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="NAME=VALUE",
                        help="structure option (repeatable), e.g. -o hp_threshold=1")
    parser.add_argument("--capacity", type=int, default=None, help="node pool slots (default: 262144)")
    parser.add_argument("--seed", type=count_argument, default=1, help="seed of the mixed workload's choices")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _n(x: int) -> str:
    return f"{x:,}"


def _search_hint(result: dict) -> str:
    from ..structures import lookup

    family, variant = result["structure"].split("/", 1)
    defaults = {o.name: o.default for o in lookup(family, variant).options}
    opts = "".join(f" -o {k}={v}" for k, v in result["options"].items() if v != defaults.get(k))
    return f"lfstress explore --story classic-aba --variant {shlex.quote(variant)}{opts} --budget 30s"


def run(args: argparse.Namespace) -> int:
    from ..bench import realstress

    kw = {}
    if args.capacity is not None:
        kw["capacity"] = args.capacity
    result = realstress.run(args.variant, threads=args.threads, seconds=args.seconds, max_ops=args.ops,
                            workload=args.workload, options=parse_options(args.option), seed=args.seed,
                            prefill=args.prefill, **kw)
    ok = result["outcome"] == "ok"
    if result["outcome"] == realstress.OUT_OF_MEMORY:  # no verdict on the queue
        if args.json:
            print(json.dumps(result, indent=1))
            return 2
        raise LfstressError(result["message"])
    if args.json:
        print(json.dumps(result, indent=1))
        return 0 if ok else 1
    opts = ", ".join(f"{k}={v}" for k, v in result["options"].items())
    head = f"{result['structure']} ({opts}) on {result['threads']} threads, {result['workload']}"
    if "conservation" not in result:  # crashed or hung before any audit
        print(f"{head}: {result['outcome'].upper()}")
        print(f"  {result['message']}")
        if result.get("stderr"):
            print("  child stderr:\n    " + result["stderr"].replace("\n", "\n    "))
    else:
        if result.get("stuck"):
            print(f"{head}: LIVELOCK — {result['message']}")
        stopped = " — the pool ran out, run ended early" if result["exhausted"] else ""
        print(f"{head}: {_n(result['ops'])} operations in {result['seconds']:.2f} s "
              f"({result['mops']:.2f} Mops/s){stopped}")
        c, a, r = result["conservation"], result["accounting"], result["reachability"]
        if c["checked"]:
            detail = (f"{_n(c['enqueued'])} enqueued = {_n(c['dequeued'])} dequeued + "
                      f"{_n(c['remaining'])} still queued")
            bound = "" if c["exact"] else "at least "
            problems = [(f"{bound}{_n(c[k])} {label}" if k in ("lost", "duplicated") else f"{_n(c[k])} {label}")
                        + (f" (first: {c['first_' + k]})" if c["first_" + k] else "")
                        for k, label in (("lost", "lost"), ("duplicated", "duplicated"),
                                         ("unknown", "never enqueued"), ("out_of_order", "out of FIFO order"))
                        if c[k]]
            if not c["exact"]:
                problems.append("these counts are lower bounds: the per-producer tallies (counts, sums, "
                                "fingerprints) tell one lost or duplicated value exactly, not several")
            if problems:
                detail = f"{_n(c['enqueued'])} enqueued, {_n(c['dequeued'])} dequeued, {_n(c['remaining'])} " \
                         f"still queued: " + "; ".join(problems)
            else:
                detail += "; none lost, duplicated or out of FIFO order"
        else:
            detail = c["message"]
        print(f"  conservation  {'OK  ' if c['ok'] else 'FAIL'}  {detail}")
        detail = (f"LIVE {_n(a['live'])} + RETIRED {_n(a['retired'])} + FREE {_n(a['free'])} "
                  f"= {_n(a['live'] + a['retired'] + a['free'])} of {_n(a['capacity'])}; "
                  f"free list {_n(a['free_listed'])}" + (f" ({_n(a['free_list_bad'])} bad)" if a["free_list_bad"] else "")
                  + f"; retired lists {_n(a['retired_listed'])}")
        print(f"  accounting    {'OK  ' if a['ok'] else 'FAIL'}  {detail}")
        if r["ok"]:
            detail = "head reaches tail; no cycle, nothing freed reachable, nothing leaked"
            if r["skipped"]:
                detail += " (skipped " + "; ".join(r["skipped"]) + ")"
            print(f"  reachability  OK    {detail}")
        else:
            print(f"  reachability  FAIL  " + "\n                      ".join(
                f"{v['kind']}: {v['message']}" for v in r["violations"]))
    if ok:
        print("result: OK")
        return 0
    print(f"result: {', '.join(result['kinds']) or result['outcome']}")
    print("  This ran on real threads: the interleaving came from the OS scheduler and cannot be "
          "replayed. For a replayable counterexample, search the same variant stepped:")
    print(f"    {_search_hint(result)}")
    return 1
