"""lfstress: a concurrency stress-testing harness for lock-free data structures.

Layout:
  _native        loads the two cffi extensions (stepped, free-running), refuses stale ones
  structures     the catalogue of structures read from the C descriptors
  usercode       a user's structure file, compiled into both builds and cached
  target         Target: what an execution runs (a structure, built in or from source=, and its programs)
  engine         Execution: one stepped execution, its trace, history and pool snapshot
  history        operations with invocation/response steps
  checks/        invariant checks: reachability, values, linearizability
  violations     the violation kinds and record
  story          the essay's story, replayed step by step (the demo); story_target
  schedulers/    random, pct, urw, exhaustive, hypothesis; replaying recorded choices
  search/        search: many executions under a scheduler, checked, shrunk;
                 its record, schedule type and backends (serial, processes)
  shrink         the smallest failure with the same violation kind
  token, replay  replay tokens, and re-running them byte for byte
  scenario, suite  scenario files and judging scenario x variant
  strategies     Hypothesis strategies of programs and schedules, for users' tests
  report         the failure report (text, JSON)
  cli            the ``lfstress`` command; pytest_plugin the pytest11 plugin

The public API is ``__all__`` below, re-exported from the private modules
(trio's and Hypothesis's way): what to run (``Target``, ``Execution``),
searching it (``explore`` -> ``ExploreResult`` with its ``Failure`` and
``Stats``), checking one execution (``check_execution`` -> ``CheckResult``,
``Violation``), drawing the queue (``draw_queue``), the stories
(``story_target``), the errors, and ``stress.strategies`` for Hypothesis.
The names load on first use, so that ``import stress`` (and the pytest
plugin, which pytest imports at start-up) does not load the native build.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__ as __version__
from .errors import BuildError as BuildError
from .errors import LfstressError as LfstressError
from .errors import UsageError as UsageError

if TYPE_CHECKING:  # pragma: no cover - what the lazy names below resolve to
    from . import strategies as strategies
    from .checks import CheckResult as CheckResult
    from .checks import check_execution as check_execution
    from .checks.reachability import draw_queue as draw_queue
    from .engine import Execution as Execution
    from .search import ExploreResult as ExploreResult
    from .search import Failure as Failure
    from .search import Schedule as Schedule
    from .search import Stats as Stats
    from .search import explore as explore
    from .story import story_target as story_target
    from .target import Target as Target
    from .violations import Violation as Violation

# Public name -> the private module it lives in.
_LAZY = {
    "Target": "target",
    "Execution": "engine",
    "explore": "search",
    "ExploreResult": "search",
    "Failure": "search",
    "Stats": "search",
    "Schedule": "search",
    "CheckResult": "checks",
    "check_execution": "checks",
    "Violation": "violations",
    "draw_queue": "checks.reachability",
    "story_target": "story",
}

__all__ = [
    "BuildError", "CheckResult", "Execution", "ExploreResult", "Failure", "LfstressError", "Schedule",
    "Stats", "Target", "UsageError", "Violation", "__version__", "check_execution", "draw_queue",
    "explore", "story_target", "strategies",
]


def __getattr__(name: str):
    if name == "strategies":
        return importlib.import_module(".strategies", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
