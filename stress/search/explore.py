"""Exploration: run many executions under a scheduler, check each, stop at
the first failure, shrink it, and hand it back as a replay token.

    result = explore(story_target("classic-aba", "naive"), "pct", seed=1, executions=10_000)
    result.stats.executions, result.failure.token, result.shrunk.after

Seeds. Execution number i of a run started with ``seed=S`` is seeded with
S+i, so the seed printed beside a failure re-runs exactly that execution
(``lfstress replay --seed``). The seed space is cut into chunks run by a
backend (stress/search/backends.py): ``jobs=N`` hands them to N worker
processes and folds the results in seed order: with an executions budget the
result (first failing seed, its schedule, the statistics) is the one a
serial run gives; only wall-clock figures differ.

Checks. Each execution gets every check (``stress.checks.check_execution``:
engine, reachability with quiescence when it finished, values and
linearizability against the initial and final contents, garbage). With
``native=True`` the ``random`` and ``pct`` executions run whole in C
(native/engine/search.c) and only what the engine sees while stepping (aba,
use-after-free, double-free, wild pointers, pool exhaustion, livelock,
deadlock) stops the search; the failing schedule is then re-run and fully
checked here. With ``kinds``, C stops only at the wanted kinds it sees (or, if
it sees none of them, at any of its violations), and when the full checks
find no wanted kind there the search goes on from the next seed. Native search
is for raw volume; it cannot see a severed queue that no harmful access caused.

``exhaustive`` and ``hypothesis`` run in one process (the exhaustive frontier
is not split yet); they ignore ``jobs``. ``hypothesis`` keeps failing
schedules in an example database when asked (``example_database=True``; see
stress/search/hypothesis_search.py).

Interruption. Ctrl-C (KeyboardInterrupt) stops the search, not the result:
``explore`` returns what ran so far, with ``stats.interrupted`` set and any
failure already found (re-run and checked, not shrunk). Worker processes
ignore SIGINT and finish their chunk; the parent stops handing out more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Collection

from ..checks import check_execution
from ..coverage import Context, CoverageWarning, Tally
from ..coverage import warnings as coverage_warnings
from ..errors import UsageError
from ..schedulers import (
    NATIVE_SCHEDULERS,
    SCHEDULERS,
    ExhaustivePolicy,
    SchedulerSpec,
    run_policy,
    solo_profile,
)
from ..token import Target
from .backends import Backend, Chunk, ProcessBackend, SeedFold, SerialBackend
from .hypothesis_search import DEFAULT_MAX_EXAMPLES, hypothesis_search, target_key
from .record import Failure, Stats, counts, run_failure
from .supervised import SUPERVISED_SCHEDULERS, Supervisor, WorkerEnded, ended, ended_failure

MAX_JOBS = 256
CHUNK_EXECUTIONS = 64             # executions per chunk, stepped from Python
NATIVE_CHUNK_EXECUTIONS = 20_000  # executions per chunk, run whole in C


@dataclass
class ExploreResult:
    target: Target
    scheduler: SchedulerSpec
    seed: int
    native: bool
    jobs: int
    stats: Stats
    failure: Failure | None = None
    shrunk: object | None = None           # stress.shrink.ShrinkResult
    notes: list[str] = field(default_factory=list)

    @property
    def reported(self) -> Failure | None:
        """The failure to show: shrunk when shrinking ran, else as found."""
        if self.shrunk is not None:
            return self.shrunk.failure
        return self.failure

    def warnings(self) -> list[CoverageWarning]:
        """Found nothing: what the variant exists for that never happened."""
        if self.failure is not None:
            return []
        return coverage_warnings(self.stats.coverage, Context.of(self.target.execution()))


def explore(
    target: Target,
    scheduler: str | SchedulerSpec = "pct",
    *,
    seed: int = 0,
    executions: int | None = None,
    seconds: float | None = None,
    jobs: int = 1,
    backend: Backend | str | None = None,
    native: bool = False,
    stop_at_first: bool = True,
    shrink: bool = True,
    shrink_attempts: int = 2000,
    shrink_seconds: float = 5.0,
    depth: int = 3,
    k: int | None = None,
    max_preemptions: int | None = None,
    example_database: bool = False,
    kinds: Collection[str] | None = None,
) -> ExploreResult:
    """Run executions of target under a scheduler until the budget (executions
    and/or seconds; at least one) runs out, or — unless stop_at_first is
    False — the first failure. See the module docstring. ``backend``: where
    the chunks of a seeded search run (default: this process, or ``jobs``
    worker processes); ``"supervised"`` (or a ``Supervisor``): every
    execution, re-run and shrink in supervised workers, and a worker that
    dies or hangs is a ``crash`` or ``hang`` failure with its token. ``example_database``: under ``hypothesis``, replay
    this target's saved failing schedules first and save the new one.
    ``kinds``: only an execution with a violation of one of these kinds
    counts as a failure (and shrinking keeps one of them); the others are
    counted and passed over."""
    spec = scheduler if isinstance(scheduler, SchedulerSpec) else SchedulerSpec(
        scheduler, depth=depth, k=k, max_preemptions=max_preemptions)
    if spec.name not in SCHEDULERS:
        raise UsageError(f"unknown scheduler {spec.name!r} (allowed: {', '.join(SCHEDULERS)})")
    if native and spec.name not in NATIVE_SCHEDULERS:
        raise UsageError(f"the native fast path runs {' and '.join(NATIVE_SCHEDULERS)} only, not {spec.name}")
    if executions is None and seconds is None and spec.name != "exhaustive":
        raise UsageError("give a budget: a number of executions, seconds, or both")
    if executions is not None and executions < 1:
        raise UsageError(f"the executions budget must be at least 1, got {executions}")
    if seconds is not None and seconds <= 0:
        raise UsageError(f"the time budget must be positive, got {seconds}")
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    if seed < 0 or seed >= 1 << 63:
        raise UsageError(f"the seed must be between 0 and 2^63-1, got {seed}")
    wanted = frozenset(kinds) if kinds else None
    if backend == "supervised":
        with Supervisor(jobs) as supervisor:
            return explore(target, spec, seed=seed, executions=executions, seconds=seconds, jobs=jobs,
                           backend=supervisor, native=native, stop_at_first=stop_at_first, shrink=shrink,
                           shrink_attempts=shrink_attempts, shrink_seconds=shrink_seconds,
                           example_database=example_database, kinds=kinds)
    supervisor = backend if isinstance(backend, Supervisor) else None
    result = ExploreResult(target, spec, seed, native, jobs, Stats())
    if supervisor is not None and (spec.name not in SUPERVISED_SCHEDULERS or native):
        search = partial(explore, target, spec, seed=seed, executions=executions, seconds=seconds, jobs=jobs,
                         native=native, stop_at_first=stop_at_first, shrink=shrink,
                         shrink_attempts=shrink_attempts, shrink_seconds=shrink_seconds,
                         example_database=example_database, kinds=kinds)
        return _whole_in_worker(supervisor, search)
    if supervisor is not None:
        spec = _prepared_in_worker(supervisor, target, spec, result.notes)
    else:
        spec = _prepared(target, spec)   # builds an execution: validates the target once, here
    result.scheduler = spec
    origin = time.perf_counter()
    deadline = origin + seconds if seconds is not None else None
    if spec.name == "exhaustive":
        stats, failure = _explore_exhaustive(target, spec, executions, deadline, stop_at_first, origin, wanted)
    elif spec.name == "hypothesis":
        stats, failure = _explore_hypothesis(target, seed, executions, deadline, origin,
                                             target_key(target) if example_database else None, wanted)
        if executions is None and failure is None and stats.executions >= DEFAULT_MAX_EXAMPLES:
            result.notes.append(f"hypothesis stopped at {DEFAULT_MAX_EXAMPLES:,} executions before the time ran "
                                "out (a time budget alone gives it that many): give an execution budget to go "
                                "further, or use another scheduler for long runs")
    else:
        backend = backend or (ProcessBackend(jobs) if jobs > 1 else SerialBackend())
        stats, failure = _explore_seeds(target, spec, seed, executions, deadline, jobs, backend, native,
                                        stop_at_first, origin, wanted)
    if spec.name in ("exhaustive", "hypothesis") and jobs > 1:
        result.notes.append(f"{spec.name} runs in one process: --jobs is ignored")
    stats.seconds = time.perf_counter() - origin
    if spec.name == "pct":
        stats.guarantee = 1.0 / (target.nthreads * spec.k ** (spec.depth - 1))
    result.stats = stats
    result.failure = failure
    if stats.interrupted:
        result.notes.append(f"interrupted after {stats.executions} executions: the figures are what ran so far"
                            + ("; the failure is shown as found, not shrunk" if failure is not None else ""))
    elif failure is not None and shrink and ended(failure):
        result.notes.append(f"the {failure.kind} is shown as found: shrinking would end more workers")
    elif failure is not None and shrink:
        from ..shrink import shrink as shrink_failure
        # Keep the decisive violation's kind, or with wanted kinds the first wanted one.
        keep = next(v.kind for v in failure.result.violations if wanted is None or v.kind in wanted)
        shrinking = partial(shrink_failure, failure, max_attempts=shrink_attempts, seconds=shrink_seconds,
                            kind=keep)
        try:
            if supervisor is None:
                result.shrunk = shrinking()
            else:
                result.shrunk = supervisor.call(shrinking)
        except WorkerEnded as exc:
            result.notes.append(f"shrinking {exc.message}: the failure is shown as found")
        except KeyboardInterrupt:
            stats.interrupted = True
            result.notes.append("interrupted while shrinking: the failure is shown as found")
    return result


def _whole_in_worker(supervisor: Supervisor, search: partial) -> ExploreResult:
    """A search that cannot be cut into seeds (exhaustive, hypothesis, the
    native fast path) runs whole in one supervised worker. If it ends that
    worker, the same budget goes to a supervised pct search, which finds an
    execution that does it, with its seed and token."""
    try:
        return supervisor.call(search)
    except WorkerEnded as exc:
        how = search.args[1].name + (" (native)" if search.keywords["native"] else "")
        result = explore(search.args[0], "pct", **{**search.keywords, "native": False, "backend": supervisor})
        result.notes.insert(0, f"the {how} search ended its worker ({exc.message}): "
                               "a supervised pct search looked for the execution that does it")
        return result


def _prepared(target: Target, spec: SchedulerSpec) -> SchedulerSpec:
    """The spec to search with: pct's k measured by a solo run of target."""
    ex = target.execution()
    if spec.name != "pct":
        return spec
    policy = spec.make()
    policy.prepare(ex)
    return SchedulerSpec("pct", depth=spec.depth, k=policy.k)


def _prepared_in_worker(supervisor: Supervisor, target: Target, spec: SchedulerSpec,
                        notes: list[str]) -> SchedulerSpec:
    """``_prepared`` in a worker. If the solo run ends its worker, pct searches
    with k=1 and the search itself meets the crash at a seed, with a token."""
    try:
        return supervisor.call(_prepared, target, spec)
    except WorkerEnded as exc:
        notes.append(f"the solo run that sizes pct's k ended its worker ({exc.message}): k=1")
        return SchedulerSpec("pct", depth=spec.depth, k=1)


def _explore_seeds(target, spec, seed, executions, deadline, jobs, backend, native, stop, origin, kinds=None):
    total = executions if executions is not None else 1 << 62
    chunk_size = NATIVE_CHUNK_EXECUTIONS if native else CHUNK_EXECUTIONS
    if executions is not None and jobs > 1:
        chunk_size = max(1, min(chunk_size, -(-executions // (jobs * 4))))
    chunks = (Chunk(target, spec, first, min(chunk_size, seed + total - first), stop, native, kinds,
                    deadline, origin)
              for first in range(seed, seed + total, chunk_size))
    fold = SeedFold(stop)
    results = backend.results(chunks)
    try:
        for chunk_result in results:
            fold.add(chunk_result)
            if fold.done or (deadline is not None and time.perf_counter() > deadline):
                break
    finally:
        results.close()
    if fold.first is None:
        return fold.stats, None
    if fold.first.failure is not None:
        return fold.stats, fold.first.failure
    rerun = partial(run_failure, target, fold.first.failing_choices, seed=fold.first.failing_seed)
    if isinstance(backend, Supervisor):
        try:
            return fold.stats, backend.call(rerun)
        except WorkerEnded as exc:
            return fold.stats, ended_failure(target, fold.first.failing_choices, exc.kind,
                                             f"re-running seed {fold.first.failing_seed}: {exc.message}",
                                             seed=fold.first.failing_seed)
    return fold.stats, rerun()


def _explore_exhaustive(target, spec, executions, deadline, stop, origin, kinds=None):
    ex = target.execution()
    policy = ExhaustivePolicy(max_preemptions=spec.max_preemptions)
    stats = Stats()
    tally = Tally()
    failure = None
    index = 0
    try:
        while policy.has_next():
            if (executions is not None and index >= executions) or (deadline and time.perf_counter() > deadline):
                break
            choices = run_policy(ex, policy, index)
            index += 1
            stats.add(len(choices))
            tally.add(ex)
            if counts(check_execution(ex), kinds):
                stats.violating += 1
                if failure is None:
                    stats.mark_first_violation(origin)
                    failure = run_failure(target, choices)
                if stop:
                    break
    except KeyboardInterrupt:
        stats.interrupted = True
    stats.coverage = tally.coverage()
    stats.bound = policy.bound
    stats.fully_explored = policy.fully_explored and not stats.interrupted
    stats.level_executions = policy.level_executions
    # A failure at level b leaves levels below b verified, not b itself.
    stats.verified = policy.verified if not stats.violating else (policy.bound - 1 if policy.bound else None)
    return stats, failure


def _explore_hypothesis(target, seed, executions, deadline, origin, database_key=None, kinds=None):
    from ..schedulers.hypothesis_strategy import run_schedule, schedules

    ex = target.execution()
    return hypothesis_search(
        schedules(max_size=4 * max(sum(solo_profile(ex)), 8)),
        lambda schedule: (target, ex, run_schedule(ex, schedule)),
        seed=seed, executions=executions, deadline=deadline, origin=origin,
        database_key=database_key, kinds=kinds)
