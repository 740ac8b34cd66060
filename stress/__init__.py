"""lfstress: a concurrency stress-testing harness for lock-free data structures.

Layout:
  _native        loads the two cffi extensions (stepped, free-running), refuses stale ones
  structures     the catalogue of structures read from the C descriptors
  engine         Execution: one stepped execution, its trace, history and pool snapshot
  history        operations with invocation/response steps
  checks/        invariant checks: reachability, values, linearizability
  violations     the violation kinds and record
  story          the essay's story, replayed step by step (the demo)
  cli            the ``lfstress`` command
"""

from ._version import __version__ as __version__
from .errors import BuildError as BuildError
from .errors import LfstressError as LfstressError
from .errors import UsageError as UsageError
from .violations import Violation as Violation
