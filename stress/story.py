"""Hand-written schedules that tell the two stories lfstress exists for.

*The essay's story* (the lock-free queue essay lfstress began from): thread 0
dequeues node A, gives it back, and is paused before its deferred cleanup
``A.next = null``. Thread 1 dequeues on and enqueues; the allocator hands A's
address out again for a new node E, linked at the tail, and more nodes follow
it. Thread 0 wakes and clears "A".next — which is now E's: the chain from head
stops at E and every node after it is leaked.

*The classic MS96 dequeue ABA*: thread 0 reads head = A and next = B and is
paused before its CAS; thread 1 dequeues A, enqueues (A's slot comes back),
dequeues again, until head is A's slot once more. Thread 0's CAS(head, A, B)
succeeds against the reincarnated A and swings head to freed B.

A schedule is described by its *shape* — run thread 0 until a landmark event,
then thread 1 to the end, then thread 0 to the end — so the same story runs
on every variant (hazard pointers take more steps to publish, but the
landmarks are the same). ``build`` returns the exact choice sequence, which
is what replay tokens record. ``story_target`` is a story on one variant
as a Target, for the search and replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import _defaults
from .engine import Event, Execution
from .errors import UsageError
from .structures import lookup
from .token import Target, content_hash

Landmark = Callable[[Event], bool]


def gave_back(e: Event) -> bool:
    """The dequeuer handed its old head to the pool (free) or to its scheme (retire)."""
    return e.kind in ("free", "retire")


def read_value(e: Event) -> bool:
    """The dequeuer read next.value: its next step is the head CAS."""
    return e.kind == "load" and e.location.endswith(".value")


@dataclass(frozen=True)
class Story:
    name: str
    title: str
    initial: tuple[int, ...]
    programs: tuple[tuple[tuple[str, int | None], ...], ...]
    landmark: Landmark
    options: dict[str, int] = field(default_factory=dict)

    def execution(self, variant: str, *, options: dict[str, int] | None = None, capacity: int = _defaults.CAPACITY) -> Execution:
        merged = {**self.options, **(options or {})}
        return Execution("msqueue", variant, self.programs, initial=self.initial,
                         options=merged, capacity=capacity)

    def build(self, ex: Execution) -> list[int]:
        """Run the story's shape on ex; return the choices it made."""
        choices: list[int] = []
        mask = ex.start()

        def step(tid: int) -> int:
            choices.append(tid)
            return ex.step(tid)

        # Thread 0 up to its landmark.
        while mask & 1:
            before = ex.event_count()
            mask = step(0)
            if any(self.landmark(e) and e.tid == 0 for e in ex.events()[before:]):
                break
        # Thread 1 to the end, then thread 0 (and anyone else) to the end.
        for tid in (1, 0):
            while mask & (1 << tid):
                mask = step(tid)
        while mask:
            mask = step((mask & -mask).bit_length() - 1)
        return choices


ESSAY = Story(
    name="essay",
    title="the essay's story: deferred cleanup writes into a reincarnated node",
    initial=(1, 2, 3),
    programs=(
        (("dequeue", None),),
        (("dequeue", None), ("dequeue", None),
         ("enqueue", 4), ("enqueue", 5), ("enqueue", 6), ("enqueue", 7), ("enqueue", 8)),
    ),
    landmark=gave_back,
    options={"cleanup": 1},
)

CLASSIC_ABA = Story(
    name="classic-aba",
    title="the classic MS96 dequeue ABA: head CAS succeeds against a reincarnated node",
    initial=(1,),
    programs=(
        (("dequeue", None),),
        (("dequeue", None), ("enqueue", 2), ("dequeue", None)),
    ),
    landmark=read_value,
)

STORIES = {s.name: s for s in (ESSAY, CLASSIC_ABA)}


def story_hash(story) -> str:
    return content_hash(story.name, story.initial, story.programs, sorted(story.options.items()))


def story_target(name: str, variant: str, *, options: dict[str, int] | None = None,
                 capacity: int = _defaults.CAPACITY, step_cap: int = _defaults.STEP_CAP,
                 reuse: str = _defaults.REUSE,
                 threads: int | None = None) -> Target:
    """The Target of a built-in story (stress/story.py) on one variant, with
    eager reclamation unless options say otherwise. ``threads=3`` adds a
    third thread running thread 1's program again (values shifted by 10)."""
    if name not in STORIES:
        raise UsageError(f"unknown story {name!r} (allowed: {', '.join(STORIES)})")
    story = STORIES[name]
    info = lookup("msqueue", variant)
    # Reclamation that reclaims within a few operations: the scheme's declared
    # threshold at 1 (scan the hazards / try to advance the epoch at every retire).
    threshold = info.reclaim.threshold_option
    merged = {threshold: 1} if threshold else {}
    merged.update({k: v for k, v in story.options.items()})
    merged.update(options or {})
    programs = [tuple(p) for p in story.programs]
    scenario = story.name
    if threads is not None and threads != len(programs):
        if threads < len(programs):
            raise UsageError(f"story {name} has {len(programs)} threads; cannot run it with {threads}")
        extra = programs[-1]
        for n in range(len(programs), threads):
            programs.append(tuple((op, None if arg is None else arg + 10 * n) for op, arg in extra))
        scenario = f"{story.name}-{threads}t"
    full = dict(zip((o.name for o in info.options), info.option_values(merged)))
    return Target("msqueue", variant, tuple(programs), tuple(story.initial), tuple(full.items()),
                  capacity, reuse, step_cap, scenario,
                  content_hash(story_hash(story), threads or len(story.programs)))
