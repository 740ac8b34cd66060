"""The ``hypothesis`` scheduler's search: Hypothesis draws schedules (and,
for a scenario's generated programs, the programs too), and shrinks the
first failing one.

Seeded. A search started with seed S draws the same examples whoever starts
it — ``lfstress run``, the pytest plugin, ``stress.suite`` or ``explore``
from a script, first call or tenth in a process. Hypothesis mixes constants
it finds in every *local* module loaded (``sys.modules``: the user's script,
conftest files, lfstress itself when installed in place) into its draws, so
which modules happen to be imported would change the schedules drawn; for the
duration of a seeded search it sees none (``_no_local_constants``).

Example database. Failing examples are saved in Hypothesis's directory
database and replayed first the next time (Phase.reuse), keyed by what is
searched — the target, or a scenario's variant when the programs are drawn —
so unrelated searches never collide. The directory is
``.hypothesis/lfstress/`` under the working directory (Hypothesis's own
convention), or ``$LFSTRESS_EXAMPLES``; ``LFSTRESS_EXAMPLES=off`` turns it
off. With an empty database a seeded search is exactly the one without.
``hypothesis.find`` cannot do both (its ``random=`` argument disables the
database), hence ``_seeded_find``.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from ..checks import check_execution
from ..coverage import Tally
from ..token import Target, content_hash
from .record import Failure, Stats, counts, run_failure

DATABASE_ENV = "LFSTRESS_EXAMPLES"
DEFAULT_DATABASE_DIR = Path(".hypothesis") / "lfstress"
DEFAULT_MAX_EXAMPLES = 10_000     # a time-only budget still needs a bound for Hypothesis


def database_dir() -> Path | None:
    """Where failing examples are kept (None: nowhere). See the module doc."""
    chosen = os.environ.get(DATABASE_ENV)
    if chosen is None:
        return DEFAULT_DATABASE_DIR
    return None if chosen.strip().lower() in ("", "off") else Path(chosen)


def target_key(target: Target) -> bytes:
    """The database key of a search of one target (its whole description)."""
    return f"lfstress:{target.structure}:{content_hash(target)}".encode()


def example_database(key: bytes | None):
    """Hypothesis's directory database for one key, or None (no key, or
    the database is turned off). One subdirectory per key."""
    root = database_dir()
    if key is None or root is None:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase
    return DirectoryBasedExampleDatabase(root / hashlib.sha256(key).hexdigest()[:16])


class _OutOfTime(Exception):
    pass


class _Found(Exception):
    pass


@contextmanager
def _no_local_constants():
    """Hypothesis's draws without the constants of local modules (see the
    module doc). Hypothesis keeps them behind one module-level function and a
    cache of what it allows per draw; both are swapped for the search and put
    back after. Versions without them need nothing."""
    try:
        from hypothesis.internal.conjecture import providers
        collect, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE, providers.Constants()
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = collect
        cache.cache.clear()


def _seeded_find(strategy, condition: Callable[[Any], bool], *, seed: int, max_examples: int,
                 database) -> Any:
    """The smallest example of strategy that satisfies condition (or
    NoSuchExample), drawn from seed, replaying the database first."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded
    from hypothesis.errors import NoSuchExample

    found: list[Any] = []

    # @seed turns the database off, so the settings go on top of it.
    @settings(max_examples=max_examples, database=database, deadline=None, report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.reuse, Phase.generate, Phase.shrink])
    @seeded(random.Random(seed).getrandbits(64))
    @given(strategy)
    def search(example):
        if condition(example):
            found[:] = [example]
            raise _Found

    with _no_local_constants():
        try:
            search()
        except _Found:
            return found[0]
    raise NoSuchExample(repr(strategy))


def hypothesis_search(strategy, run: Callable[[Any], tuple[Target, Any, list[int]]], *, seed: int,
                      executions: int | None, deadline: float | None, origin: float,
                      database_key: bytes | None, kinds: frozenset[str] | None = None,
                      ) -> tuple[Stats, Failure | None]:
    """Search the examples of strategy; ``run(example)`` runs one and returns
    (target, its execution, the thread choices made). The statistics count
    executions up to the first failure (Hypothesis's shrinking runs are not
    the search's); the failure is the shrunk example's, or — when the budget
    ran out while shrinking — the smallest failing one so far."""
    from hypothesis.errors import Flaky, NoSuchExample

    stats = Stats()
    tally = Tally()
    last_failing: list[tuple[Target, list[int]]] = []

    def fails(example) -> bool:
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime
        target, ex, choices = run(example)
        failed = counts(check_execution(ex), kinds)
        if failed:
            last_failing[:] = [(target, choices)]
        if stats.first_violation_execution is None:   # the search's own, not shrinking's
            tally.add(ex)
        stats.add_until_first_violation(len(choices), failed, origin)
        return failed

    try:
        found = _seeded_find(strategy, fails, seed=seed, max_examples=executions or DEFAULT_MAX_EXAMPLES,
                             database=example_database(database_key))
        target, _, choices = run(found)
    except (NoSuchExample, _OutOfTime, Flaky):   # Flaky: the budget ran out mid-shrink
        if not last_failing:
            return stats, None
        target, choices = last_failing[0]
    except KeyboardInterrupt:
        stats.interrupted = True
        if not last_failing:
            return stats, None
        target, choices = last_failing[0]
    finally:
        stats.coverage = tally.coverage()
    return stats, run_failure(target, choices, seed=seed)
