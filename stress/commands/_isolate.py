"""``--isolate``: run the code under test in supervised workers
(stress/search/supervised.py), never in the process the user started. A
worker that dies or hangs is reported as a ``crash`` or ``hang`` with its
token; the command goes on."""

from __future__ import annotations

import argparse
import contextlib
import io
from typing import Any, Callable

from ..errors import UsageError


def add_isolation_arguments(parser: argparse.ArgumentParser) -> None:
    from ..search.supervised import HANG_SECONDS
    group = parser.add_argument_group("isolation")
    group.add_argument("--isolate", action="store_true",
                       help="run the code under test in supervised worker processes: an execution that "
                            "exits, dies or hangs is a crash or hang with its token, and the command goes on")
    group.add_argument("--hang-seconds", type=float, default=HANG_SECONDS,
                       help=f"--isolate: a worker that starts no new execution this long is killed and reported "
                            f"as a hang (default: {HANG_SECONDS:g})")


def supervisor_from_args(args: argparse.Namespace, jobs: int = 1):
    """The Supervisor --isolate asks for, or None."""
    if not args.isolate:
        if args.hang_seconds != _default_hang():
            raise UsageError("--hang-seconds goes with --isolate")
        return None
    if not 0 < args.hang_seconds < float("inf"):
        raise UsageError(f"--hang-seconds must be a positive number of seconds, got {args.hang_seconds}")
    from ..search.supervised import Supervisor
    return Supervisor(jobs, hang_seconds=args.hang_seconds)


def with_supervisor(args: argparse.Namespace, body: Callable[[argparse.Namespace, Any], int], jobs: int = 1) -> int:
    """body(args, supervisor): the Supervisor --isolate asks for (ended
    after body), or None."""
    supervisor = supervisor_from_args(args, jobs)
    if supervisor is None:
        return body(args, None)
    with supervisor:
        return body(args, supervisor)


def _default_hang() -> float:
    from ..search.supervised import HANG_SECONDS
    return HANG_SECONDS


def run_in_worker(args: argparse.Namespace, body: Callable[[argparse.Namespace], int]) -> int:
    """body(args) — a command that re-runs one execution — in a supervised
    worker under --isolate, its output printed here; if the execution ends
    the worker, how it ended, and exit status 1."""
    supervisor = supervisor_from_args(args)
    if supervisor is None:
        return body(args)
    import sys

    from ..search.supervised import WorkerEnded
    with supervisor:
        try:
            status, out, err = supervisor.call(captured, body, args)
        except WorkerEnded as ended:
            print(f"{ended.kind}: the execution ended its worker: {ended.message}")
            return 1
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


def captured(fn: Callable[..., int], *args: Any) -> tuple[int, str, str]:
    """fn(*args)'s exit status with what it printed to stdout and stderr
    (run in a worker, so the supervisor prints it)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = fn(*args)
    return status, out.getvalue(), err.getvalue()


def ended_text(failure) -> str:
    """What is known of an execution that ended its worker: where it ended
    (no checks ran, there is no trace to show)."""
    violation = failure.result.violations[0]
    where = (f"at step {failure.steps}, run by thread T{violation.thread}" if failure.steps
             else "before its first step")
    return (f"{failure.kind}: the execution ended its worker {where}: {violation.message}\n"
            f"  no checks ran; a new worker took its place\n")
