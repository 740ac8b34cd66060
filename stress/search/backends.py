"""Backends: where the chunks of a seeded search run.

A search over seeds (``random``, ``pct``, ``urw``, in Python or natively) is
cut into *chunks*: each a ``Chunk``, plain picklable data — the target, the
scheduler's spec, the first seed and how many, what counts as a failure,
whether to stop at the first, the deadline. ``run_chunk`` runs one wherever
it is sent and returns a ``ChunkResult``: the chunk's statistics and its
first failing seed with that execution's choices.

A *backend* runs a stream of chunks and yields their results **in chunk
order**, as a generator; the search folds each into a ``SeedFold`` as it
arrives (the statistics of everything before it, the first failure in seed
order) and closes the generator once it has what it needs — so the result is
the serial one wherever the chunks ran, and memory stays flat: a backend
holds at most a window of results waiting for an earlier chunk.

Three backends today: ``SerialBackend`` (this process), ``ProcessBackend``
(forked worker processes, ``--jobs``) and ``Supervisor`` (supervised workers
that a crashing or hanging execution does not take down, ``--isolate``:
stress/search/supervised.py). A distributed engine is one more class with
the same ``results(chunks)``; an exhaustive frontier split into subtrees is one more
kind of chunk for the same backends. The deadline is a ``time.perf_counter()``
reading: a backend on other machines has to carry time left instead.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

from ..checks import check_execution
from .. import _native
from ..coverage import Tally
from ..schedulers import NATIVE_POLICIES, SchedulerSpec, run_choices, run_policy
from ..token import Target
from .record import Failure, Stats, counts


@dataclass(frozen=True)
class Chunk:
    """Executions seeded first_seed .. first_seed+count-1 of target under a
    scheduler (see the module doc)."""

    target: Target
    scheduler: SchedulerSpec
    first_seed: int
    count: int
    stop_at_first: bool
    native: bool
    kinds: frozenset[str] | None      # only these count as a failure (None: any)
    deadline: float | None            # time.perf_counter() past which no execution starts
    origin: float                     # time.perf_counter() when the search started


@dataclass
class ChunkResult:
    stats: Stats
    failing_seed: int | None = None
    failing_choices: list[int] | None = None
    failure: "Failure | None" = None     # made where it ran (a supervisor's crash or hang)


class Backend(Protocol):
    """Runs chunks; yields one result per chunk, in chunk order."""

    def results(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        ...


class SeedFold:
    """Chunk results folded in seed order: the statistics a serial run has,
    and its first failing chunk."""

    def __init__(self, stop_at_first: bool) -> None:
        self.stop_at_first = stop_at_first
        self.stats = Stats()
        self.first: ChunkResult | None = None

    def add(self, result: ChunkResult) -> None:
        if self.first is None and result.failing_seed is not None:
            self.first = result
            self.stats.first_violation_execution = self.stats.executions + result.stats.first_violation_execution
            self.stats.first_violation_seconds = result.stats.first_violation_seconds
        self.stats.merge(result.stats)

    @property
    def done(self) -> bool:
        """Nothing after this can change the result."""
        return (self.first is not None and self.stop_at_first) or self.stats.interrupted


# ----------------------------------------------------------------------
def run_chunk(chunk: Chunk, watch=None) -> ChunkResult:
    """Run one chunk here. Ctrl-C stops it with what ran so far. ``watch``
    (a supervised worker's, stress/search/supervised.py): ``before(seed)``
    each execution (or each call into C), ``after()`` it."""
    result = ChunkResult(Stats())
    if watch is not None:
        watch.begin(result)
        watch.before(chunk.first_seed)   # building the execution runs the structure's code too
    ex = chunk.target.execution()
    try:
        if chunk.native:
            _run_native(chunk, ex, result, watch)
        else:
            _run_python(chunk, ex, result, watch)
    except KeyboardInterrupt:
        result.stats.interrupted = True   # what ran so far stands
        if result.failing_seed is not None and result.failing_choices is None:
            result.failing_choices = ex.native_choices(native_params(ex, chunk.scheduler), result.failing_seed)
    return result


def native_params(ex, spec: SchedulerSpec, kinds: frozenset[str] | None = None):
    """The native search's parameters for a random or pct spec on ex."""
    return ex.native_search_params(_native.limit(NATIVE_POLICIES[spec.name]), depth=spec.depth, k=spec.k or 1,
                                   kinds=kinds)


def _run_python(chunk: Chunk, ex, result: ChunkResult, watch=None) -> None:
    stats = result.stats
    policy = chunk.scheduler.make()
    tally = Tally()
    try:
        for seed in range(chunk.first_seed, chunk.first_seed + chunk.count):
            if chunk.deadline is not None and time.perf_counter() > chunk.deadline:
                break
            if watch is not None:
                watch.before(seed)
            choices = run_policy(ex, policy, seed)
            if watch is not None:
                watch.after()
            stats.add(len(choices))
            tally.add(ex)
            if counts(check_execution(ex), chunk.kinds):
                stats.violating += 1
                if result.failing_seed is None:
                    result.failing_seed, result.failing_choices = seed, choices
                    stats.mark_first_violation(chunk.origin)
                if chunk.stop_at_first:
                    break
    finally:
        stats.coverage.merge(tally.coverage())


NATIVE_CALL = 4096    # executions per call into C: the deadline is checked between calls


def _run_native(chunk: Chunk, ex, result: ChunkResult, watch=None) -> None:
    """Executions run whole in C; what the engine flags is re-run here and,
    when the search wants particular kinds, checked in full (a wanted kind
    may come with another engine violation, or only the full checks see
    it); if none is there the search goes on from the next seed."""
    stats = result.stats
    params = native_params(ex, chunk.scheduler, chunk.kinds)
    done = 0
    while done < chunk.count:
        if watch is not None:
            watch.before(chunk.first_seed + done)
        part = ex.run_native_chunk(params, chunk.first_seed + done, min(NATIVE_CALL, chunk.count - done),
                                   stop_at_violation=chunk.stop_at_first)
        if watch is not None:
            watch.after()
        stats.merge(Stats(part.executions, part.steps_total, part.steps_min, part.steps_max, part.violating,
                          coverage=part.coverage))
        if part.first_violation is not None and result.failing_seed is None:
            candidate = chunk.first_seed + done + part.first_violation
            choices = ex.native_choices(params, candidate)
            if chunk.kinds is None or _counts_with_full_checks(ex, choices, chunk.kinds):
                result.failing_seed, result.failing_choices = candidate, choices
                stats.mark_first_violation(chunk.origin,
                                           stats.executions - part.executions + part.first_violation + 1)
                if chunk.stop_at_first:
                    break
            elif chunk.stop_at_first:
                stats.violating -= 1
        done += part.executions
        if chunk.deadline is not None and time.perf_counter() > chunk.deadline:
            break


def _counts_with_full_checks(ex, choices, kinds: frozenset[str]) -> bool:
    run_choices(ex, choices)
    return counts(check_execution(ex), kinds)


# ----------------------------------------------------------------------
class SerialBackend:
    """Every chunk in this process, one after the other."""

    def results(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        for chunk in chunks:
            yield run_chunk(chunk)


def _ignore_sigint() -> None:
    """Ctrl-C reaches the whole process group: the parent decides to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessBackend:
    """Chunks in a pool of ``jobs`` worker processes (forked where the
    platform can), at most ``window`` chunks sent or waiting at a time.
    Ctrl-C: the running chunks finish (workers ignore SIGINT), no new ones
    start; the results so far come out, then an interrupted marker."""

    def __init__(self, jobs: int, window: int | None = None) -> None:
        self.jobs = jobs
        self.window = window or 4 * jobs

    def results(self, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        todo = iter(enumerate(chunks))
        pending: dict = {}                       # future -> chunk index
        arrived: dict[int, ChunkResult] = {}     # back, waiting for an earlier chunk
        following = 0                            # the index to yield next
        with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=_ignore_sigint) as pool:
            def refill() -> None:
                while len(pending) + len(arrived) < self.window:
                    item = next(todo, None)
                    if item is None:
                        return
                    pending[pool.submit(run_chunk, item[1])] = item[0]

            try:
                refill()
                while pending or following in arrived:
                    while following in arrived:
                        yield arrived.pop(following)
                        following += 1
                    refill()
                    if not pending:
                        continue
                    try:
                        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    except KeyboardInterrupt:
                        yield from self._interrupted(pending, arrived, following)
                        return
                    for future in finished:
                        arrived[pending.pop(future)] = future.result()
            finally:
                for future in pending:
                    future.cancel()

    @staticmethod
    def _interrupted(pending: dict, arrived: dict[int, ChunkResult], following: int) -> Iterator[ChunkResult]:
        for future in pending:
            future.cancel()
        for future, index in list(pending.items()):
            if not future.cancelled():
                try:
                    arrived[index] = future.result()
                except Exception:  # pragma: no cover - a worker died while we stop
                    pass
        pending.clear()
        while following in arrived:
            yield arrived.pop(following)
            following += 1
        yield ChunkResult(Stats(interrupted=True))
