"""Search: many executions of a target under a scheduler, checked, the first
failure shrunk and handed back with its replay token.

Layout:
  explore            explore(): the budget, the schedulers, shrinking; ExploreResult
  record             Stats (figures of a search, folded as chunks come back),
                     Failure (one failing execution and its token), run_failure
  schedule           Schedule: an execution's choices as typed steps
  backends           Chunk (plain data: target, scheduler, seed range), run_chunk,
                     the Backend protocol; SerialBackend, ProcessBackend (--jobs)
  hypothesis_search  the hypothesis scheduler: seeded, with the example database
  supervised         Supervisor: the code under test in worker processes; one that
                     dies or hangs is a crash or hang failure with its token
"""

from .backends import Backend as Backend
from .backends import Chunk as Chunk
from .backends import ChunkResult as ChunkResult
from .backends import ProcessBackend as ProcessBackend
from .backends import SerialBackend as SerialBackend
from .explore import ExploreResult as ExploreResult
from .explore import explore as explore
from .record import Failure as Failure
from .record import Stats as Stats
from .record import counts as counts
from .record import run_failure as run_failure
from .schedule import Schedule as Schedule
from .schedule import ThreadChoice as ThreadChoice

__all__ = [
    "Backend", "Chunk", "ChunkResult", "ExploreResult", "Failure", "ProcessBackend", "Schedule",
    "SerialBackend", "Stats", "ThreadChoice", "counts", "explore", "run_failure",
]
