"""The harness survives the code it tests: 100,000 executions of a broken
queue, and the memory of the process that ran them.

Workload: the classic MS96 dequeue ABA (stress/story.py, ``classic-aba``) on
``msqueue/naive``, which frees a dequeued node at once and so, under the
wrong interleavings, reads freed nodes, CASes through reincarnated ones and
corrupts the queue. Three measurements:

1. The command a person types, as a child process:
   ``lfstress explore --story classic-aba --variant naive --scheduler random
   --keep-going --budget 100000``. Its resident set (VmRSS in
   /proc/PID/status) is sampled every 50 ms; the peak is the kernel's VmHWM.
   It must exit with status 1 (a violation found) and a report, not a signal.
   The report shows RSS at each tenth of the run: if anything grew with the
   number of executions (events, violations, fibers, cffi objects, the
   search's own records) the series would climb.
2. The same search in this process through ``stress.search.explore``, in
   ten consecutive calls of 10,000 seeds: RSS after each call (nothing is
   kept from one call to the next).
3. The native fast path (``--native``), 1,000,000 executions, as a child.
4. Memory that stays flat in the other long-running modes:
   - ``lfstress stress --variant tagged --seconds 30 --threads 4`` under
     ``/usr/bin/time -v`` (its maximum resident set covers the child that
     runs the threads), and correct variants under a 1 GB address-space
     limit (``prlimit --as``): each must be OK, never a broken queue;
   - ``lfstress explore --scenario scenarios/essay_story.toml --variant hazard
     --scheduler exhaustive --keep-going --budget 120s``: RSS sampled, its
     value at the end against its value after 10 s;
   - the parent of ``--jobs 2`` (random, ``--keep-going``, 60 s): the same.

Run from the checkout: python -m tests.benchmarks.robustness [--executions N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

COMMAND = ["explore", "--story", "classic-aba", "--variant", "naive", "--scheduler", "random",
           "--keep-going"]


def _status_kb(pid: int | str, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def measure_cli(executions: int, extra: list[str] | None = None, *, command: list[str] | None = None) -> dict:
    """Run the CLI in a child, sample its RSS; return figures in KiB (``samples``:
    (seconds, KiB) pairs). ``command`` replaces the default search."""
    argv = [sys.executable, "-m", "stress", *(command or [*COMMAND, "--budget", str(executions)]), *(extra or [])]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int]] = []
    peak = None
    while proc.poll() is None:
        rss = _status_kb(proc.pid, "VmRSS")
        hwm = _status_kb(proc.pid, "VmHWM")
        if rss is not None:
            samples.append((time.monotonic() - started, rss))
        if hwm is not None:
            peak = hwm
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    # "before": once the search runs (imports and the first execution done);
    # "after": the last sample, taken during shrinking / the report.
    running = [rss for t, rss in samples if t >= min(1.0, wall / 4)] or [rss for _, rss in samples]
    tenths = []
    for i in range(1, 11):
        at = [(t, rss) for t, rss in samples if t <= wall * i / 10]
        if at:
            tenths.append({"seconds": round(at[-1][0], 2), "rss_kib": at[-1][1]})
    return {
        "rss_kib_tenths": tenths,
        "argv": ["lfstress", *argv[3:]], "exit_status": proc.returncode,
        "signal": -proc.returncode if proc.returncode < 0 else None,
        "wall_seconds": round(wall, 2), "samples": len(samples),
        "rss_kib_first": samples[0][1] if samples else None,
        "rss_kib_before": running[0] if running else None,
        "rss_kib_after": running[-1] if running else None,
        "rss_kib_peak": peak,
        "rss_kib_min_running": min(running) if running else None,
        "rss_kib_max_running": max(running) if running else None,
        "stdout_head": "\n".join(out.splitlines()[:8]),
        "stdout_tail": "\n".join(out.splitlines()[-3:]),
        "stderr": err.strip()[-2000:],
        "traceback": "Traceback" in err,
        "samples": samples,
    }


STRESS = ["stress", "--variant", "tagged", "--seconds", "30", "--threads", "4"]
ADDRESS_SPACE_LIMIT = 1 << 30
LIMITED_VARIANTS = ("tagged", "hazard", "epoch", "locked")
EXHAUSTIVE = ["explore", "--scenario", "scenarios/essay_story.toml", "--variant", "hazard",
              "--scheduler", "exhaustive", "--keep-going", "--budget", "120s"]
JOBS = ["explore", "--story", "classic-aba", "--variant", "tagged", "--scheduler", "random",
        "--keep-going", "--jobs", "2", "--budget", "60s"]
SETTLED_AFTER = 10.0   # seconds: RSS then is the reference a flat run stays near


def measure_stress() -> dict:
    """``lfstress stress`` under /usr/bin/time -v: its maximum RSS, children included."""
    argv = ["/usr/bin/time", "-v", sys.executable, "-m", "stress", *STRESS, "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    result = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return {"argv": ["lfstress", *STRESS], "exit_status": proc.returncode,
            "max_rss_kib": int(peak.group(1)) if peak else None,
            "child_max_rss_kib": result.get("max_rss_kib"), "outcome": result.get("outcome"),
            "ops": result.get("ops"), "conservation_ok": result.get("conservation", {}).get("ok")}


def measure_limited(seconds: float = 5.0) -> list[dict]:
    """Correct variants under an address-space limit: OK, not a broken queue."""
    rows = []
    for variant in LIMITED_VARIANTS:
        argv = ["prlimit", f"--as={ADDRESS_SPACE_LIMIT}", sys.executable, "-m", "stress", "stress",
                "--variant", variant, "--seconds", str(seconds), "--threads", "4", "--json"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        result = json.loads(proc.stdout) if proc.stdout.strip() else {}
        rows.append({"variant": variant, "exit_status": proc.returncode, "outcome": result.get("outcome"),
                     "ops": result.get("ops"), "kinds": result.get("kinds"),
                     "stderr": proc.stderr.strip()[-500:]})
    return rows


def flatness(run: dict) -> dict:
    """RSS at the end of a run against its RSS after SETTLED_AFTER seconds."""
    samples = run.pop("samples")
    settled = next((rss for t, rss in samples if t >= SETTLED_AFTER), None)
    end = samples[-1][1] if samples else None
    run.update({"rss_kib_settled": settled, "rss_kib_end": end,
                "growth": (end / settled - 1) if settled and end else None})
    return run


def measure_in_process(slices: int, per_slice: int) -> dict:
    """The search in this process, slice by slice: RSS after each."""
    from stress.search import explore
    from stress.story import story_target

    target = story_target("classic-aba", "naive")
    explore(target, "random", seed=0, executions=200, stop_at_first=False, shrink=False)  # warm up
    rows = []
    for i in range(slices):
        started = time.perf_counter()
        result = explore(target, "random", seed=i * per_slice, executions=per_slice,
                         stop_at_first=False, shrink=False)
        rows.append({"slice": i + 1, "executions_done": (i + 1) * per_slice,
                     "violating": result.stats.violating, "seconds": round(time.perf_counter() - started, 2),
                     "rss_kib": _status_kb("self", "VmRSS")})
    return {"per_slice": per_slice, "rows": rows, "peak_kib": _status_kb("self", "VmHWM")}


def write_report(result: dict, out: Path) -> None:
    from stress.bench.machine import machine_markdown

    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps(result, indent=1) + "\n")
    cli, native, inproc = result["cli"], result["native"], result["in_process"]
    stress, limited = result["stress"], result["address_space_limited"]
    exhaustive, jobs = result["exhaustive"], result["jobs"]

    def mib(kib: int | None) -> str:
        return "-" if kib is None else f"{kib / 1024:.1f} MiB"

    def cli_rows(name: str, r: dict) -> str:
        status = f"signal {r['signal']}" if r["signal"] else str(r["exit_status"])
        return (f"| {name} | {status} | {r['wall_seconds']:.1f} s | {mib(r['rss_kib_before'])} | "
                f"{mib(r['rss_kib_after'])} | {mib(r['rss_kib_peak'])} | "
                f"{mib(r['rss_kib_min_running'])} – {mib(r['rss_kib_max_running'])} |")

    series = inproc["rows"]
    first, last = series[0]["rss_kib"], series[-1]["rss_kib"]
    lines = [
        "# Robustness: 100,000 executions of a broken queue, and memory",
        "",
        "Generated by `python -m tests.benchmarks.robustness` (tests/benchmarks/robustness.py); figures in",
        "`robustness.json`. What it shows: the harness runs code that chases freed and reincarnated",
        "nodes for as long as asked, exits with status 1 and a report — never a signal — and its",
        "memory does not grow with the number of executions.",
        "",
        machine_markdown(result["machine"]).rstrip(),
        "",
        "## The command, as a child process",
        "",
        f"`{' '.join(cli['argv'])}` — RSS sampled every 50 ms from `/proc/PID/status` (VmRSS);",
        "*before* is the first sample once the search runs (after 1 s), *after* the last one (taken",
        "while shrinking and printing the report), *peak* the kernel's high-water mark (VmHWM).",
        "",
        "| run | exit | wall | RSS before | RSS after | peak | range while running |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        cli_rows(f"{result['executions']:,} executions, Python-driven", cli),
        cli_rows(f"{result['native_executions']:,} executions, `--native`", native),
        "",
        "RSS of the Python-driven run at each tenth of its wall time:",
        "",
        "| tenth | " + " | ".join(str(i + 1) for i in range(len(cli["rss_kib_tenths"]))) + " |",
        "| --- |" + " ---: |" * len(cli["rss_kib_tenths"]),
        "| seconds | " + " | ".join(f"{r['seconds']:.1f}" for r in cli["rss_kib_tenths"]) + " |",
        "| RSS MiB | " + " | ".join(f"{r['rss_kib'] / 1024:.2f}" for r in cli["rss_kib_tenths"]) + " |",
        "",
        "Python-driven run, first lines of its output:",
        "",
        "```",
        cli["stdout_head"],
        "...",
        cli["stdout_tail"],
        "```",
        "",
        f"Traceback on stderr: {'yes' if cli['traceback'] or native['traceback'] else 'no'}.",
        "",
        "## The same search in one process, call by call",
        "",
        f"`stress.search.explore` on the same target, {len(series)} consecutive calls of "
        f"{inproc['per_slice']:,} seeds each (every check after every execution), RSS after each call:",
        "",
        "| slice | executions so far | violating in slice | seconds | RSS |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *[f"| {r['slice']} | {r['executions_done']:,} | {r['violating']} | {r['seconds']:.1f} | "
          f"{mib(r['rss_kib'])} |" for r in series],
        "",
        f"RSS after call 1: {mib(first)}; after call {len(series)}: {mib(last)} "
        f"(change {(last - first) / 1024:+.1f} MiB over {(len(series) - 1) * inproc['per_slice']:,} "
        f"more executions); peak {mib(inproc['peak_kib'])}.",
        "",
        "## Memory in the other long-running modes",
        "",
        f"`{' '.join(stress['argv'])}` under `/usr/bin/time -v` (the maximum resident set of the",
        "command and the child that runs the threads): each consumer tallies what it dequeues per",
        "producer in fixed memory, so the run's length does not show.",
        "",
        "| run | exit | outcome | operations | max RSS (time -v) | the child's own max RSS |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
        f"| stress, tagged, 30 s, 4 threads | {stress['exit_status']} | {stress['outcome']} | "
        f"{stress['ops'] or 0:,} | {mib(stress['max_rss_kib'])} | {mib(stress['child_max_rss_kib'])} |",
        "",
        f"Correct variants, 5 s on 4 threads each, under a {ADDRESS_SPACE_LIMIT >> 20} MiB address-space limit "
        "(`prlimit --as`):",
        "",
        "| variant | exit | outcome | operations |",
        "| --- | ---: | --- | ---: |",
        *[f"| {r['variant']} | {r['exit_status']} | {r['outcome']} | {r['ops'] or 0:,} |" for r in limited],
        "",
        f"Searches that run until their time is up: RSS after {SETTLED_AFTER:g} s against RSS at the end.",
        "",
        "| run | exit | wall | RSS at 10 s | RSS at the end | change | peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[f"| `{' '.join(r['argv'])}` | {r['exit_status']} | {r['wall_seconds']:.0f} s | "
          f"{mib(r['rss_kib_settled'])} | {mib(r['rss_kib_end'])} | "
          f"{'-' if r['growth'] is None else format(r['growth'], '+.1%')} | {mib(r['rss_kib_peak'])} |"
          for r in (exhaustive, jobs)],
        "",
        "## Reading it",
        "",
        "- Exit status 1 is explore's \"violation found\" (0: none, 2: bad input, 130: interrupted).",
        "- Flat means the same to within allocator noise: an `Execution` is built per chunk of 64",
        "  executions and freed with it (`ffi.gc`), reset by `lfs_exec_start` in between (pool,",
        "  events, violations and fiber stacks are reused); the checks build their Python objects",
        "  per execution and drop them.",
        "- The last tenth of the command includes shrinking the failure and printing its report:",
        "  that, not the search, is the small step at the end (it is absent with `--no-shrink`).",
        "- The search folds the record of each chunk of executions into its totals as it comes",
        "  back, in seed order, serial or with `--jobs N`: a long search keeps none of them.",
        "- The exhaustive search walks depth first over choice points (memory follows the depth of",
        "  an execution); the schedules of the next preemption level wait in a temporary file.",
        "",
    ]
    (out / "robustness.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    from stress.bench.machine import machine_info

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--native-executions", type=int, default=1_000_000)
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    cli = measure_cli(args.executions)
    print(f"cli: exit {cli['exit_status']}, {cli['wall_seconds']} s, RSS {cli['rss_kib_before']} -> "
          f"{cli['rss_kib_after']} KiB, peak {cli['rss_kib_peak']} KiB")
    native = measure_cli(args.native_executions, ["--native"])
    print(f"native: exit {native['exit_status']}, {native['wall_seconds']} s, RSS {native['rss_kib_before']} -> "
          f"{native['rss_kib_after']} KiB, peak {native['rss_kib_peak']} KiB")
    cli.pop("samples")
    native.pop("samples")
    inproc = measure_in_process(args.slices, args.executions // args.slices)
    print("in-process RSS KiB: " + ", ".join(str(r["rss_kib"]) for r in inproc["rows"]))
    stress = measure_stress()
    print(f"stress: exit {stress['exit_status']}, {stress['outcome']}, max RSS {stress['max_rss_kib']} KiB")
    limited = measure_limited()
    print("under 1 GB: " + ", ".join(f"{r['variant']} {r['outcome']}" for r in limited))
    exhaustive = flatness(measure_cli(0, command=EXHAUSTIVE))
    print(f"exhaustive: RSS {exhaustive['rss_kib_settled']} KiB at {SETTLED_AFTER:g} s, "
          f"{exhaustive['rss_kib_end']} KiB at the end")
    jobs = flatness(measure_cli(0, command=JOBS))
    print(f"jobs 2: RSS {jobs['rss_kib_settled']} KiB at {SETTLED_AFTER:g} s, {jobs['rss_kib_end']} KiB at the end")
    result = {"machine": machine_info(), "executions": args.executions,
              "native_executions": args.native_executions, "cli": cli, "native": native,
              "in_process": inproc, "stress": stress, "address_space_limited": limited,
              "exhaustive": exhaustive, "jobs": jobs}
    write_report(result, args.out)
    print(f"wrote {args.out / 'robustness.md'}")
    return 0 if cli["exit_status"] == 1 and native["exit_status"] == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
