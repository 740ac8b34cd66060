"""Bounded garbage: retired-but-unreclaimed nodes, step by step.

A reclamation scheme holds nodes that were unlinked and retired but not yet
freed. What it promises about their number differs:

- Hazard pointers (Michael 2004) bound it. A scan leaves at most H retired
  nodes per thread (H = hazards in use: only those can be named) and runs
  whenever the thread's list reaches R (the scan threshold), so a thread never
  holds more than max(R, H + 1) -- with Michael's R = H + Omega(H), that is R,
  and N * R over N threads. (reclaim/hazard.c states the same bound.) Holding
  more is ``unbounded-garbage``.
- Epochs promise nothing while a thread is stalled in a critical section:
  the profile shows the growth, and it is never a violation.

The profile is computed from the trace alone (alloc/retire/free events), so a
hand-built event list can be checked as well as a real execution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _native
from ..violations import Violation

if TYPE_CHECKING:
    from ..engine import Event, Execution


@dataclass(frozen=True)
class ReclamationBound:
    """What a variant promises: ``scheme`` None (it never retires), "hazard"
    (``per_thread`` is the bound), "epoch" or "other" (``per_thread`` None:
    no bound)."""

    scheme: str | None
    per_thread: int | None = None
    explanation: str = ""


def reclamation_bound(ex: Execution) -> ReclamationBound:
    """The bound ``ex``'s variant promises: its declared scheme, the
    threshold in the option the scheme names, the hazards in its roots."""
    info = ex.structure
    scheme = info.reclaim.scheme
    if scheme == "hazard":
        # The hazard roots hold the same number of slots for each of the
        # LFS_MAX_THREADS threads an execution may have.
        hazards = sum(r.count for r in info.roots if r.kind == "hazard")
        per_thread_hazards = max(1, hazards // _native.limit("LFS_MAX_THREADS"))
        h = ex.nthreads * per_thread_hazards
        r = ex.options[info.reclaim.threshold_option]
        bound = max(r, h + 1)
        return ReclamationBound(
            "hazard", bound,
            f"hazard pointers promise at most max(R, H + 1) = max({r}, {h} + 1) = {bound} "
            f"retired-but-unreclaimed nodes per thread (R = scan threshold, "
            f"H = {ex.nthreads} threads x {per_thread_hazards} hazards)")
    if scheme == "epoch":
        return ReclamationBound(
            "epoch", None, "epochs promise no bound while a thread is stalled in a critical section")
    if scheme == "other":
        return ReclamationBound("other", None, "the scheme promises no bound")
    return ReclamationBound(None)


@dataclass(frozen=True)
class GarbageProfile:
    """Retired-but-unreclaimed nodes after each step.

    ``per_step[k]`` is the total over all threads after step k;
    ``thread_peaks[t]`` the most thread t held at once, first reached at
    ``thread_peak_steps[t]``; ``thread_over_steps[t]`` is the first step
    at which thread t held more than the bound (None: never).
    """

    per_step: tuple[int, ...]
    thread_peaks: tuple[int, ...]
    thread_peak_steps: tuple[int | None, ...]
    bound: ReclamationBound
    thread_over_steps: tuple[int | None, ...] = ()  # first step above the bound

    @property
    def peak(self) -> int:
        return max(self.per_step, default=0)

    @property
    def peak_step(self) -> int | None:
        return self.per_step.index(self.peak) if self.peak else None

    @property
    def final(self) -> int:
        return self.per_step[-1] if self.per_step else 0

    def sparkline(self, width: int = 60) -> str:
        """The profile in one line of block characters (sampled to width)."""
        if not self.per_step or not self.peak:
            return ""
        n = len(self.per_step)
        cols = min(width, n)
        bars = " ▁▂▃▄▅▆▇█"
        out = []
        for c in range(cols):
            chunk = self.per_step[c * n // cols:max((c + 1) * n // cols, c * n // cols + 1)]
            out.append(bars[round(max(chunk) * (len(bars) - 1) / self.peak)])
        return "".join(out)

    def describe(self) -> str:
        if not self.peak:
            return "no node was retired"
        text = (f"retired-but-unreclaimed nodes: peak {self.peak} at step {self.peak_step}, "
                f"{self.final} at the end")
        if self.bound.per_thread is not None:
            text += f" (bound: {self.bound.per_thread} per thread)"
        elif self.bound.explanation:
            text += f" ({self.bound.explanation}: shown, not checked)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.bound.scheme,
            "bound_per_thread": self.bound.per_thread,
            "peak": self.peak,
            "peak_step": self.peak_step,
            "final": self.final,
            "thread_peaks": list(self.thread_peaks),
        }


def garbage_profile(events: Iterable[Event], nthreads: int, *,
                    bound: ReclamationBound | None = None, steps: int | None = None) -> GarbageProfile:
    """Replay the pool's alloc/retire/free events (others are ignored) to
    count, after each step, the nodes each thread retired that are not yet
    freed. ``steps``: the execution's length (default: up to the last event)."""
    owner: dict[int, int] = {}      # retired slot -> retiring thread
    freed: set[int] = set()         # FREE slots (setup's allocations are not traced)
    held = [0] * nthreads
    peaks = [0] * nthreads
    peak_steps: list[int | None] = [None] * nthreads
    over_steps: list[int | None] = [None] * nthreads
    limit = bound.per_thread if bound is not None else None
    per_step: list[int] = []
    total = 0

    def close_steps_until(step: int) -> None:
        while len(per_step) < step:
            per_step.append(total)

    events_seen: list[int] = []
    for e in events:
        close_steps_until(e.step)
        events_seen[:] = [e.step]
        if e.kind == "alloc":
            freed.discard(e.slot)
        elif e.kind == "retire":
            # Retiring a node that is not live is a double free, which the
            # pool refuses: nobody holds anything more.
            if e.slot not in freed and e.slot not in owner and 0 <= e.tid < nthreads:
                owner[e.slot] = e.tid
                held[e.tid] += 1
                total += 1
                if held[e.tid] > peaks[e.tid]:
                    peaks[e.tid], peak_steps[e.tid] = held[e.tid], e.step
                if limit is not None and held[e.tid] > limit and over_steps[e.tid] is None:
                    over_steps[e.tid] = e.step
        elif e.kind == "free":
            freed.add(e.slot)
            tid = owner.pop(e.slot, None)
            if tid is not None:
                held[tid] -= 1
                total -= 1
    last = events_seen[-1] if events_seen else -1
    close_steps_until(steps if steps is not None else last + 1)
    return GarbageProfile(tuple(per_step), tuple(peaks), tuple(peak_steps),
                          bound or ReclamationBound(None), tuple(over_steps))


def check_garbage(profile: GarbageProfile) -> list[Violation]:
    """``unbounded-garbage`` for each thread that held more than its bound."""
    limit = profile.bound.per_thread
    if limit is None:
        return []
    found = []
    over = profile.thread_over_steps or (None,) * len(profile.thread_peaks)
    for tid, (peak, peak_step, first) in enumerate(zip(profile.thread_peaks, profile.thread_peak_steps, over)):
        if peak > limit:
            first = peak_step if first is None else first
            found.append(Violation(
                "unbounded-garbage",
                f"T{tid} held {limit + 1} retired-but-unreclaimed nodes at step {first} "
                f"(peak {peak} at step {peak_step}); {profile.bound.explanation}",
                step=first, thread=tid,
                provenance={"peak": peak, "peak_step": peak_step, "bound": limit,
                            "scheme": profile.bound.scheme}))
    return found
