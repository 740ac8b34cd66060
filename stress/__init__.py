"""lfstress: a concurrency stress-testing harness for lock-free data structures.

Layout:
  _native        loads the two cffi extensions (stepped, free-running), refuses stale ones
  structures     the catalogue of structures read from the C descriptors
  usercode       a user's structure file, compiled into both builds and cached
  engine         Execution: one stepped execution, its trace, history and pool snapshot
  history        operations with invocation/response steps
  checks/        invariant checks: reachability, values, linearizability
  violations     the violation kinds and record
  story          the essay's story, replayed step by step (the demo)
  schedulers/    random, pct, urw, exhaustive, hypothesis, replay
  search/        search: many executions under a scheduler, checked, shrunk;
                 its record, schedule type and backends (serial, processes)
  shrink         the smallest failure with the same violation kind
  token, replay  replay tokens, and re-running them byte for byte
  scenario, suite  scenario files and judging scenario x variant
  strategies     Hypothesis strategies of programs and schedules, for users' tests
  report         the failure report (text, JSON)
  cli            the ``lfstress`` command; pytest_plugin the pytest11 plugin

The public API is what this module exports: Target (what to run), explore
(search it), check_execution (check one execution), and stress.strategies.
"""

from ._version import __version__ as __version__
from .errors import BuildError as BuildError
from .errors import LfstressError as LfstressError
from .errors import UsageError as UsageError
from .violations import Violation as Violation
from .checks import check_execution as check_execution
from .search import explore as explore
from .token import Target as Target
