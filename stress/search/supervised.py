"""Supervised workers: the code under test runs in worker processes, never
in the process that holds the results.

Code under test that is broken in ordinary ways — ``_exit(0)``, ``exit(3)``,
``raise(SIGTERM)``, a fault with the crash guard's handler removed, heap
corruption, ``fork()``, ``alarm()``, closing stdout, a loop without
primitives — would end or hang a process that runs it. So a *supervisor*
(this module, in the user's process) keeps long-lived *workers* (forked once
per search, restarted only when one dies; the fork-server model of AFL and
the forked JVMs of jcstress) and hands them requests over a pipe: run a
chunk of seeds, re-run one failure, shrink, render a report.

Each worker has a small shared record (an anonymous shared mmap, made before
the fork) that it writes before each execution — the seed in flight and a
heartbeat counter: a few stores, no system call. (In a worker every
execution's start beats too, so a search run whole in a worker, a re-run or
a shrink is alive as long as its executions go on.) The supervisor polls it:

    what happened                          the supervisor reports
    the worker died (any signal, any exit) crash, at the seed in flight
    the heartbeat stood still HANG_SECONDS hang, at the seed in flight
    the worker saw the harness damaged     crash, at the execution that did it
      after an execution (a fork() child,
      a pending alarm(), stdout or stderr
      closed)

and for that exact execution it builds a replay token: the seed fixes the
schedule, so a fresh worker re-runs the seed in *trace* mode, writing every
choice into the shared record before making it; when that worker dies or
hangs again, the choices so far are the schedule up to the fatal step. Then
a new worker takes the dead one's place and the search goes on with the
budget.

No process outlives the supervisor: a worker leads its own process group
(so its ``fork()`` children go with it, and the terminal's Ctrl-C reaches
only the supervisor), asks the kernel to kill it when its parent dies
(``prctl(PR_SET_PDEATHSIG)``) and leaves when its pipe closes; the
supervisor kills each group when it is done with it.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import pickle
import signal
import time
from collections import deque
from dataclasses import replace
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, Callable, Iterable, Iterator

from ..checks import CheckResult
from ..contained import signal_name
from ..errors import LfstressError, UsageError
from ..schedulers import SchedulerSpec, run_policy
from ..target import Target
from ..violations import Violation
from .backends import Chunk, ChunkResult, run_chunk
from .record import Failure, Stats, run_failure
from .schedule import Schedule

HANG_SECONDS = 10.0     # a worker whose heartbeat stands still this long is killed and reported as a hang
POLL_SECONDS = 0.05     # how often the supervisor looks at the heartbeats while it waits
PIPELINE = 2            # chunks sent to a worker ahead of its answers
TRACE_CAPACITY = 1 << 20  # choices a traced execution can record (the step cap's documented maximum)

SUPERVISED_SCHEDULERS = ("random", "pct", "urw")   # the seeded ones: a seed names an execution
ENDED = "ended"         # the status of an execution that ended its worker: no checks ran

# The shared record: int64 words, then one byte per traced choice. The
# chunk's figures so far (executions .. first failing seed, -1 for none) are
# what the supervisor keeps of a chunk whose worker died.
SEED, HEARTBEAT, TRACED, EXECUTIONS, STEPS_TOTAL, STEPS_MIN, STEPS_MAX, VIOLATING, FAILING, WORDS = range(10)
PR_SET_PDEATHSIG = 1


class HarnessDamaged(Exception):
    """The code under test left the worker unfit to go on (see ``check_harness``)."""


class WorkerEnded(Exception):
    """The worker running a request died or hung: ``kind`` is crash or hang."""

    def __init__(self, kind: str, message: str, seed: int) -> None:
        super().__init__(message)
        self.kind, self.message, self.seed = kind, message, seed


# ----------------------------------------------------------------- worker side
class Watch:
    """What a worker does around each execution: before it, publish its seed,
    a heartbeat and the chunk's figures so far (stores into the shared record,
    no system call); after it, check the harness."""

    def __init__(self, record: memoryview, owner: int) -> None:
        self.words = record[:WORDS * 8].cast("q")
        self.owner = owner
        self.result: ChunkResult | None = None
        self.calling = False     # running a whole function (see _watch_every_start)

    def begin(self, result: ChunkResult | None) -> None:
        """The chunk whose figures ``before`` publishes."""
        self.result = result

    def before(self, seed: int) -> None:
        words = self.words
        words[SEED] = seed
        words[HEARTBEAT] += 1
        if self.result is not None:
            stats = self.result.stats
            words[EXECUTIONS] = stats.executions
            words[STEPS_TOTAL] = stats.steps_total
            words[STEPS_MIN] = -1 if stats.steps_min is None else stats.steps_min
            words[STEPS_MAX] = stats.steps_max
            words[VIOLATING] = stats.violating
            failing = self.result.failing_seed
            words[FAILING] = -1 if failing is None else failing

    def after(self) -> None:
        check_harness(self.owner)


def check_harness(owner: int) -> None:
    """Raise HarnessDamaged if the execution that just ran left something
    behind that outlives it: a child process, a pending alarm, stdout or
    stderr closed. A ``fork()`` child that got here leaves quietly (its
    parent reports it). Five system calls, none of which blocks."""
    if os.getpid() != owner:
        os._exit(0)
    try:
        if os.waitpid(-1, os.WNOHANG) is not None:
            raise HarnessDamaged("the code under test called fork(): a child process was left running")
    except ChildProcessError:
        pass
    if signal.alarm(0):
        raise HarnessDamaged("the code under test set an alarm (alarm()): SIGALRM would end the process")
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            raise HarnessDamaged(f"the code under test closed {name} (file descriptor {fd})") from None


def _traced(ex, record: memoryview):
    """ex, but every step first records its thread in the shared record."""
    words = record[:WORDS * 8].cast("q")
    choices = record[WORDS * 8:]
    words[TRACED] = 0

    class Traced:
        def __getattr__(self, name):
            return getattr(ex, name)

        def stepper(self):
            step = ex.stepper()

            def traced_step(tid: int) -> int:
                n = words[TRACED]
                if n < len(choices):
                    choices[n] = tid
                    words[TRACED] = n + 1
                return step(tid)
            return traced_step

    return Traced()


def _watch_every_start(watch: Watch, conn: Connection) -> None:
    """In a worker, every execution's start beats the heartbeat, and a
    ``fork()`` child of the code under test leaves there. While the worker
    runs a whole function (a search that cannot be cut into seeds, a re-run,
    a shrink: ``watch.calling``), each start also checks the harness, and
    a damaged worker reports it and ends right there."""
    from ..engine import Execution

    start = Execution.start
    words = watch.words

    def watched_start(ex) -> int:
        if os.getpid() != watch.owner:
            os._exit(0)
        words[HEARTBEAT] += 1
        if watch.calling:
            try:
                check_harness(watch.owner)
            except HarnessDamaged as exc:
                conn.send(("damaged", str(exc)))
                os._exit(0)
        return start(ex)

    Execution.start = watched_start


def _serve(conn: Connection, record: memoryview) -> None:
    """A worker's loop: one request in, one answer out, until the pipe closes."""
    owner = os.getpid()
    watch = Watch(record, owner)
    _watch_every_start(watch, conn)
    while True:
        try:
            request, payload = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if request == "chunk":
                answer = ("ok", run_chunk(payload, watch=watch))
            elif request == "trace":
                target, spec, seed = payload
                watch.begin(None)
                watch.before(seed)
                run_policy(_traced(target.execution(), record), spec.make(), seed)
                answer = ("ok", None)
            else:                                # "call": a function and its arguments
                fn, args = payload
                watch.calling = True
                try:
                    answer = ("ok", fn(*args))
                finally:
                    watch.calling = False
            check_harness(owner)
        except HarnessDamaged as exc:
            answer = ("damaged", str(exc))
        except BaseException as exc:   # noqa: BLE001 - every error goes back to the supervisor as it is
            answer = ("error", exc)
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("error", RuntimeError(f"the worker's answer could not be sent back: {exc}")))
        if answer[0] == "damaged":
            return


def _worker_main(conn: Connection, record: memoryview, parent: int) -> None:
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):   # pragma: no cover - not Linux: the pipe's EOF still ends us
        pass
    if os.getppid() != parent:          # the supervisor died before prctl took hold
        return
    _serve(conn, record)


# ------------------------------------------------------------- supervisor side
class Worker:
    """One worker process, seen from the supervisor."""

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, WORDS * 8 + TRACE_CAPACITY)
        self.record = memoryview(self.memory)
        self.words = self.record[:WORDS * 8].cast("q")
        self.conn, child = Pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:                       # pragma: no cover - runs in the worker
            status = 0
            try:
                self.conn.close()
                _worker_main(child, self.record, parent)
            except BaseException:   # noqa: BLE001 - a worker never returns into the supervisor's code
                status = 1
            finally:
                os._exit(status)
        child.close()
        try:
            os.setpgid(pid, pid)   # as the worker does: whichever runs first, the group exists for stop()
        except (PermissionError, ProcessLookupError):
            pass
        self.pid = pid
        self.status: int | None = None     # waitpid status once it ended
        self.beat = self.words[HEARTBEAT]
        self.beat_at = time.monotonic()

    def send(self, request: str, payload: Any) -> None:
        self.conn.send((request, payload))

    def clock(self) -> None:
        """Start the hang clock: the worker takes up work after being idle."""
        self.beat, self.beat_at = self.words[HEARTBEAT], time.monotonic()

    def stalled(self, limit: float) -> bool:
        """Has the heartbeat stood still for ``limit`` seconds?"""
        beat = self.words[HEARTBEAT]
        now = time.monotonic()
        if beat != self.beat:
            self.beat, self.beat_at = beat, now
            return False
        return now - self.beat_at > limit

    def traced(self) -> list[int]:
        n = min(self.words[TRACED], TRACE_CAPACITY)
        return list(self.record[WORDS * 8:WORDS * 8 + n])

    def death(self) -> str:
        """How the worker ended, in words (it is killed if it has not)."""
        self.stop()
        status = self.status or 0
        if os.WIFSIGNALED(status):
            return f"its worker died of {signal_name(os.WTERMSIG(status))}"
        return f"its worker exited with status {os.WEXITSTATUS(status)}"

    def stop(self) -> None:
        """Kill the worker's process group (its children too) and reap it."""
        if self.status is not None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, self.status = os.waitpid(self.pid, 0)
        self.conn.close()


def _answer(worker: Worker, limit: float) -> tuple[str, Any]:
    """Wait for one answer from a busy worker: ("ok", value), ("error", exc),
    or the worker's end as ("crash" | "hang", message)."""
    while True:
        if wait([worker.conn], timeout=POLL_SECONDS):
            try:
                answer = worker.conn.recv()
            except (EOFError, OSError):
                return "crash", worker.death()
            if answer[0] == "damaged":
                worker.stop()
                return "crash", answer[1]
            return answer
        if worker.stalled(limit):
            worker.stop()
            return "hang", f"no new execution for {limit:g} s: its worker was killed"


class Supervisor:
    """Workers for one search (or one replay): ``results`` runs chunks in a
    pool of ``jobs`` (the Backend protocol); ``call`` runs a function in one
    more, kept apart from the pool. Use as a context manager: leaving it
    ends every worker."""

    def __init__(self, jobs: int = 1, hang_seconds: float = HANG_SECONDS) -> None:
        if hang_seconds <= 0:
            raise UsageError(f"the hang limit must be positive, got {hang_seconds}")
        self.jobs = jobs
        self.hang_seconds = hang_seconds
        self.workers: list[Worker] = []    # every live worker: the pool, the caller, a tracer
        self.pool: list[Worker] = []
        self.caller: Worker | None = None

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()
        self.pool.clear()
        self.caller = None

    def _start(self) -> Worker:
        worker = Worker()
        self.workers.append(worker)
        return worker

    def _end(self, worker: Worker) -> None:
        worker.stop()
        self.workers.remove(worker)

    def _replace(self, dead: Worker) -> Worker:
        """A new pool worker in the dead one's place."""
        self._end(dead)
        worker = self._start()
        self.pool[self.pool.index(dead)] = worker
        return worker

    # -------------------------------------------------------------- calls
    def call(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) in the caller worker; its result, or its exception
        re-raised here; WorkerEnded if the worker died, or hung: started no
        execution for the hang limit — a new one replaces it."""
        if self.caller is None:
            self.caller = self._start()
        worker = self.caller
        worker.clock()
        worker.send("call", (fn, args))
        status, value = _answer(worker, self.hang_seconds)
        if status in ("crash", "hang"):
            self._end(worker)
            self.caller = None
            raise WorkerEnded(status, value, worker.words[SEED])
        if status == "error":
            raise value
        return value

    def ended_failure(self, target: Target, spec: SchedulerSpec, seed: int, kind: str,
                      message: str) -> Failure:
        """The Failure for an execution that ended its worker: the seed is
        re-run in trace mode in a fresh worker to recover its schedule up to
        the fatal step (see the module doc)."""
        tracer = self._start()
        tracer.clock()
        tracer.send("trace", (target, spec, seed))
        status, value = _answer(tracer, self.hang_seconds)
        choices = tracer.traced()
        self._end(tracer)
        if status == "ok":
            message += "; re-run alone, the same seed ran to its end (the code under test is not deterministic)"
        elif status == "error":
            message += f"; re-running it failed: {value}"
        return ended_failure(target, choices, kind, message, seed=seed)

    # ------------------------------------------------------------- backend
    def results(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """The Backend protocol: chunks in ``jobs`` workers, results in chunk
        order. Each worker has up to PIPELINE chunks sent, so it never waits
        for the supervisor to be scheduled between chunks."""
        todo = iter(enumerate(chunks))
        arrived: dict[int, ChunkResult] = {}
        following = 0
        window = 4 * self.jobs
        while len(self.pool) < self.jobs:
            self.pool.append(self._start())
        sent: dict[Worker, deque[tuple[int, Chunk]]] = {worker: deque() for worker in self.pool}
        try:
            while True:
                while following in arrived:
                    yield arrived.pop(following)
                    following += 1
                for worker in self.pool:
                    queue = sent[worker]
                    while len(queue) < PIPELINE and sum(map(len, sent.values())) + len(arrived) < window:
                        item = next(todo, None)
                        if item is None:
                            break
                        if not queue:
                            worker.clock()
                        queue.append(item)
                        worker.send("chunk", item[1])
                if not any(sent.values()):
                    if following not in arrived:
                        return
                    continue
                try:
                    ready = wait([w.conn for w in self.pool if sent[w]], timeout=POLL_SECONDS)
                except KeyboardInterrupt:
                    yield from self._interrupted(arrived, following)
                    return
                for position, worker in enumerate(list(self.pool)):
                    if sent[worker] and (worker.conn in ready or worker.stalled(self.hang_seconds)):
                        index, chunk = sent[worker].popleft()
                        arrived[index] = self._chunk_answer(worker, chunk)
                        if self.pool[position] is not worker:      # it ended: what it had queued goes again
                            replacement = self.pool[position]
                            sent[replacement] = sent.pop(worker)
                            replacement.clock()
                            for _, queued in sent[replacement]:
                                replacement.send("chunk", queued)
        except KeyboardInterrupt:
            yield from self._interrupted(arrived, following)
        finally:
            self.close()

    def _chunk_answer(self, worker: Worker, chunk: Chunk) -> ChunkResult:
        """The whole chunk's result from its worker. If an execution ended the
        worker, it is a failure; a new worker runs the rest of the chunk
        unless the search stops at the first failure."""
        status, value = _answer(worker, self.hang_seconds)
        if status == "ok":
            return value
        if status == "error" and isinstance(value, LfstressError):
            raise value
        if status == "error":     # the interpreter itself was damaged (heap corruption, ...)
            worker.stop()
            status, value = "crash", f"its worker raised {type(value).__name__}: {value}"
        words = worker.words
        seed = words[SEED]
        stats = Stats(words[EXECUTIONS], words[STEPS_TOTAL], None if words[STEPS_MIN] < 0 else words[STEPS_MIN],
                      words[STEPS_MAX], words[VIOLATING])
        earlier = None if words[FAILING] < 0 else words[FAILING]
        replacement = self._replace(worker)
        failure = self.ended_failure(chunk.target, chunk.scheduler, seed, status, f"seed {seed}: {value}")
        stats.add(failure.steps)
        stats.violating += 1
        if earlier is not None:      # a failure the checks found before this one, in the same chunk
            stats.mark_first_violation(chunk.origin, earlier - chunk.first_seed + 1)
            result = ChunkResult(stats, earlier, self.call(_policy_choices, chunk.target, chunk.scheduler, earlier))
        else:
            stats.mark_first_violation(chunk.origin)
            result = ChunkResult(stats, seed, failure.choices, failure)
        rest = chunk.first_seed + chunk.count - seed - 1
        if chunk.stop_at_first or rest <= 0 or (chunk.deadline is not None and time.perf_counter() > chunk.deadline):
            return result
        remainder = replace(chunk, first_seed=seed + 1, count=rest)
        replacement.clock()
        replacement.send("chunk", remainder)
        result.stats.merge(self._chunk_answer(replacement, remainder).stats)
        return result

    def _interrupted(self, arrived: dict[int, ChunkResult], following: int) -> Iterator[ChunkResult]:
        self.close()
        while following in arrived:
            yield arrived.pop(following)
            following += 1
        yield ChunkResult(Stats(interrupted=True))


def _policy_choices(target: Target, spec: SchedulerSpec, seed: int) -> list[int]:
    return run_policy(target.execution(), spec.make(), seed)


def ended_failure(target: Target, choices: list[int], kind: str, message: str, *,
                  seed: int | None = None) -> Failure:
    """The record of an execution that ended its worker: no checks ran, so its
    one violation is the way it ended, at its last step."""
    violation = Violation(kind, message, step=len(choices) - 1 if choices else None,
                          thread=choices[-1] if choices else None)
    return Failure(target, Schedule.of_threads(choices), CheckResult(ENDED, (violation,)), seed,
                   0, "", 0)


def ended(failure: Failure) -> bool:
    """Did this failure end its worker (so nothing but its token is known)?"""
    return failure.result.status == ENDED


def replay_choices(supervisor: Supervisor, target: Target, choices: list[int]) -> Failure:
    """Re-run a recorded schedule in a worker: its Failure record, or — when
    the worker died or hung — the record of that."""
    try:
        return supervisor.call(run_failure, target, choices)
    except WorkerEnded as ended:
        return ended_failure(target, list(choices), ended.kind, ended.message)
