"""Thread programs of any structure on real threads, in a child process.

The free-running build runs the code under test for real: a wild pointer is
a real SIGSEGV, an ``abort()`` kills the process, a lost CAS loop never
returns. So ``run_free`` runs the programs in a child
(``python -m stress.contained``) with a wall-clock deadline and turns what
happened into one result, the way ``lfstress stress`` does for queues
(stress/bench/realstress.py):

    outcome          how it is told
    ok               every operation returned
    pool-exhausted   an operation returned LFS_NOMEM (the pool ran out)
    livelock         a thread was still inside an operation at the deadline
                     (the child reports it; if even that fails, the parent
                     kills the child after a grace period)
    crash            the child died of a signal (``signal`` names it)

The parent always gets a result and carries on with the next item. Nothing
here can be replayed: the OS scheduled the threads.

    run_free("testonly", "wild", [[("run", None)]])["outcome"] == "crash"
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Sequence

from . import _native
from .errors import UsageError
from .structures import lookup

GRACE = 5.0  # seconds the parent waits past the child's own deadline


def run_free(family: str, variant: str, programs: Sequence[Sequence[tuple[str, int | None]]], *,
             initial: Sequence[int] = (), options: dict[str, int] | None = None, capacity: int = 1024,
             timeout: float = 10.0) -> dict[str, Any]:
    """Run one program per pthread (each op in order) in a child; see the
    module docstring for the result's ``outcome``."""
    info = lookup(family, variant)
    values = info.option_values(options)
    max_threads = _native.limit("LFS_MAX_THREADS")
    if not 1 <= len(programs) <= max_threads:
        raise UsageError(f"a run needs 1 to {max_threads} threads, got {len(programs)}")
    max_capacity = _native.limit("LFS_RUN_MAX_CAPACITY", build="free")
    if not 1 <= capacity <= max_capacity:
        raise UsageError(f"pool capacity must be between 1 and {max_capacity}, got {capacity}")
    if timeout <= 0:
        raise UsageError(f"the timeout must be positive, got {timeout}")
    encoded = [[[info.op_index(op), 0 if arg is None else int(arg)] for op, arg in prog] for prog in programs]
    if initial and info.insert_op is None:
        raise UsageError(f"{info.name} has no insert operation: no initial contents")
    params = {"index": info.index, "source": info.source, "programs": encoded, "capacity": capacity,
              "options": values, "initial": [[info.op_index(info.insert_op), int(v)] for v in initial],
              "timeout": timeout}
    base = {"structure": info.name, "threads": len(programs), "capacity": capacity,
            "options": {o.name: v for o, v in zip(info.options, values)}}
    return run_in_child([sys.executable, "-m", "stress.contained", json.dumps(params)],
                        limit=timeout + GRACE, base=base,
                        hang=f"no result {timeout + GRACE:g} s after the start: the child was killed",
                        died="the child running the threads died of {signal}")


def run_in_child(command: list[str], *, limit: float, base: dict[str, Any],
                 hang: str, died: str) -> dict[str, Any]:
    """Run a child (``python -m MODULE PARAMS_JSON``) with a wall-clock limit and turn
    what happened into a result: the child's last stdout line (JSON), or
    ``livelock`` when it outlived the limit (``hang`` says so), or ``crash``
    when a signal killed it (``died``, with ``{signal}``) or it printed no
    result. ``base`` goes into every result; ``wall_seconds`` is added."""
    started = time.monotonic()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        return {**base, "outcome": "livelock", "kinds": ["livelock"], "signal": None, "message": hang,
                "stderr": _tail(exc.stderr), "wall_seconds": time.monotonic() - started}
    wall = time.monotonic() - started
    if proc.returncode < 0:
        name = signal_name(-proc.returncode)
        return {**base, "outcome": "crash", "kinds": ["crash"], "signal": name,
                "message": died.format(signal=name), "stderr": _tail(proc.stderr), "wall_seconds": wall}
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {**base, "outcome": "crash", "kinds": ["crash"], "signal": None,
                "message": f"the child exited with status {proc.returncode} without a result",
                "stderr": _tail(proc.stderr), "wall_seconds": wall}
    return {**base, **result, "wall_seconds": wall}


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(text: str | bytes | None, lines: int = 8) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


# ------------------------------------------------------------------ child

def _child(params: dict[str, Any]) -> dict[str, Any]:
    import threading


    if params.get("source"):   # a user's structure file: its free build, from the cache
        from .usercode import build
        m = build(params["source"]).free
    else:
        m = _native.free()
    ffi, lib = m.ffi, m.lib
    programs = params["programs"]
    n = len(programs)
    opts = ffi.new("int64_t[]", params["options"] or [0])
    run = lib.lfs_run_new(lib.lfs_structure_get(params["index"]), n, params["capacity"], opts)
    if run == ffi.NULL:
        return {"outcome": "error", "kinds": [], "message": "the free-running build refused the run"}
    lib.lfs_run_init(run)
    out = ffi.new("int64_t *")
    for op, arg in params["initial"]:
        if lib.lfs_run_call(run, 0, op, arg, out) == lib.LFS_NOMEM:
            return {"outcome": "pool-exhausted", "kinds": ["pool-exhausted"],
                    "message": "the pool ran out while filling in the initial contents"}
    statuses: list[list[int]] = [[] for _ in range(n)]
    start = threading.Barrier(n)

    def body(tid: int) -> None:
        result = ffi.new("int64_t *")
        start.wait()
        for op, arg in programs[tid]:
            statuses[tid].append(lib.lfs_run_call(run, tid, op, arg, result))  # releases the GIL

    threads = [threading.Thread(target=body, args=(tid,), daemon=True) for tid in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + params["timeout"]
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [tid for tid, t in enumerate(threads) if t.is_alive()]
    if stuck:
        return {"outcome": "livelock", "kinds": ["livelock"], "stuck": stuck,
                "message": f"thread(s) {', '.join(f'T{t}' for t in stuck)} still inside an operation "
                           f"{params['timeout']:g} s after the start"}
    exhausted = [tid for tid in range(n) if lib.LFS_NOMEM in statuses[tid]]
    if exhausted:
        return {"outcome": "pool-exhausted", "kinds": ["pool-exhausted"],
                "message": f"the pool of {params['capacity']} nodes ran out "
                           f"(thread(s) {', '.join(f'T{t}' for t in exhausted)} got no node)"}
    return {"outcome": "ok", "kinds": [], "message": "every operation returned",
            "statuses": statuses}


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))), flush=True)
    os._exit(0)  # a thread stuck in an operation must not keep the child alive
