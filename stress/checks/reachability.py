"""Reachability invariants over a snapshot of the node pool.

Like a tracing collector's mark phase: start at the roots the structure
declared as links (``head``, ``tail``, ``top`` ...), follow every link field,
and mark what is reached. The chain of elements is the one the structure
declares (``StructureInfo.chain_entry`` / ``chain_exit`` / ``next_field``):
from its entry root along its next field. Then:

- ``cycle``      following links from a root comes back to a node already on the path;
- ``severed``    the chain from the entry does not reach the exit root (a
                 queue's head and tail), or does not end at it (at quiescence
                 MS96's tail may not lag);
- ``use-after-free``  a root or a reachable node links to a FREE slot (dangling);
- ``leak``       a LIVE node that nothing reaches: not a root, not a retired
                 list (RETIRED nodes are the reclamation scheme's), and — the
                 check runs only when every thread has finished — no thread.

Every node is named by slot and generation (``#5 g2``), with the count.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import Snapshot
from ..violations import Violation


def node_name(snapshot: Snapshot, slot: int) -> str:
    return f"#{slot} g{snapshot.slots[slot].gen}"


def _labelled(snapshot: Snapshot, slot: int) -> str:
    """``#4 g1 (7)``: a node with its value, when it has one."""
    vf = snapshot.structure.value_field
    value = f" ({snapshot.slots[slot].words[vf]})" if vf is not None else ""
    return node_name(snapshot, slot) + value


def _link_fields(snapshot: Snapshot) -> list[int]:
    return [i for i, f in enumerate(snapshot.structure.fields) if f.kind == "link"]


def _next_name(snapshot: Snapshot) -> str:
    nf = snapshot.structure.next_field
    return snapshot.structure.fields[nf].name if nf is not None else "next"


@dataclass(frozen=True)
class Chain:
    """The nodes met following the chain's next field from one root."""

    root: str
    slots: tuple[int, ...]
    ends_in: str   # "null" | "cycle" | "freed"
    stop: int | None  # the slot where it looped / the freed slot


def follow(snapshot: Snapshot, start: int | None, root: str) -> Chain:
    nf = snapshot.structure.next_field
    path: list[int] = []
    seen: set[int] = set()
    slot = start
    while slot is not None:
        if slot in seen:
            return Chain(root, tuple(path), "cycle", slot)
        if snapshot.slots[slot].state == "FREE":
            return Chain(root, tuple(path), "freed", slot)
        seen.add(slot)
        path.append(slot)
        slot = snapshot.slots[slot].refs[nf] if nf is not None else None
    return Chain(root, tuple(path), "null", None)


def reachable(snapshot: Snapshot) -> set[int]:
    """Every slot reached from a link root through link fields."""
    links = _link_fields(snapshot)
    marked: set[int] = set()
    todo = [s for refs in (snapshot.roots[r.name] for r in snapshot.structure.roots if r.kind == "link")
            for s in refs if s is not None]
    while todo:
        slot = todo.pop()
        if slot in marked or snapshot.slots[slot].state == "FREE":
            continue
        marked.add(slot)
        todo.extend(s for i in links if (s := snapshot.slots[slot].refs[i]) is not None)
    return marked


def leaked_slots(snapshot: Snapshot) -> list[int]:
    marked = reachable(snapshot)
    return [s.slot for s in snapshot.slots if s.state == "LIVE" and s.slot not in marked]


def check_reachability(snapshot: Snapshot, *, quiescent: bool) -> list[Violation]:
    """The structural invariants. ``quiescent``: every thread has finished
    (only then are leaks and a lagging tail violations)."""
    found: list[Violation] = []
    info = snapshot.structure
    link_roots = [r for r in info.roots if r.kind == "link"]
    next_name = _next_name(snapshot)
    chains = {}
    for root in link_roots:
        for i, start in enumerate(snapshot.roots[root.name]):
            name = root.name if root.count == 1 else f"{root.name}[{i}]"
            chain = chains[name] = follow(snapshot, start, name)
            if chain.ends_in == "cycle":
                loop = " → ".join(f"#{s}" for s in chain.slots) + f" → #{chain.stop}"
                found.append(Violation("cycle", f"following {next_name} from {name} loops: {loop}",
                                       slots=chain.slots))
            elif chain.ends_in == "freed":
                via = f"#{chain.slots[-1]}.{next_name}" if chain.slots else name
                found.append(Violation(
                    "use-after-free",
                    f"{via} links to #{chain.stop}, which is FREE: the structure reaches freed memory",
                    slots=(chain.stop,)))

    entry_name, exit_name = info.chain_entry, info.chain_exit
    head, tail = chains.get(entry_name or ""), chains.get(exit_name or "")
    if head and tail and tail.slots:
        tail_slot = tail.slots[0]
        if tail_slot not in head.slots and head.ends_in != "cycle":
            last = node_name(snapshot, head.slots[-1]) if head.slots else entry_name
            in_chain = set(head.slots)
            cut_off = [s.slot for s in snapshot.slots if s.state == "LIVE" and s.slot not in in_chain]
            cut_text = ""
            if cut_off:
                cut_text = (f"; {len(cut_off)} live node(s) cut off from {entry_name}: "
                            + ", ".join(_labelled(snapshot, s) for s in cut_off))
            found.append(Violation(
                "severed",
                f"the chain from {entry_name} stops at {last} and never reaches {exit_name} "
                f"({node_name(snapshot, tail_slot)}){cut_text}",
                slots=((head.slots[-1],) if head.slots else ()) + tuple(cut_off),
                provenance={"chain": list(head.slots), "tail": tail_slot, "cut_off": cut_off}))
        elif quiescent and head.ends_in == "null" and head.slots and head.slots[-1] != tail_slot:
            lag = len(head.slots) - 1 - head.slots.index(tail_slot)
            noun = info.spec if info.spec in ("queue", "stack") else "chain"
            found.append(Violation(
                "severed",
                f"{exit_name} (#{tail_slot}) lags {lag} node(s) behind the end of the {noun} "
                f"(#{head.slots[-1]}) after every thread finished",
                slots=(tail_slot,), provenance={"chain": list(head.slots), "tail": tail_slot}))

    if quiescent:
        leaked = leaked_slots(snapshot)
        if leaked:
            names = ", ".join(_labelled(snapshot, s) for s in leaked)
            found.append(Violation(
                "leak",
                f"{len(leaked)} live node(s) reachable from nothing: {names}",
                slots=tuple(leaked)))
    return found


def chain_values(snapshot: Snapshot, spec: str) -> list[int] | None:
    """The value of every element on the chain from the entry root, in chain
    order (a sentinel left out), for a structure of this spec; None when the
    chain is broken or the structure declares none."""
    info = snapshot.structure
    vf, entry = info.value_field, info.chain_entry
    if info.spec != spec or vf is None or entry is None:
        return None
    chain = follow(snapshot, snapshot.roots[entry][0], entry)
    if chain.ends_in != "null":
        return None
    values = [snapshot.slots[s].words[vf] for s in chain.slots]
    return values[1:] if info.sentinel else values


def queue_contents(snapshot: Snapshot) -> list[int] | None:
    """Values still in a queue, front first, or None when the chain is
    broken and the contents cannot be told."""
    return chain_values(snapshot, "queue")


def stack_contents(snapshot: Snapshot) -> list[int] | None:
    """Values still on a stack, bottom first (the order of pushes), read
    from the top down; None when the chain is broken."""
    values = chain_values(snapshot, "stack")
    return None if values is None else values[::-1]


def contents(snapshot: Snapshot) -> list[int] | None:
    """What the structure holds, in insertion order as its sequential spec
    sees it (queue: front first; stack: bottom first), or None when unknown."""
    if snapshot.structure.spec == "queue":
        return queue_contents(snapshot)
    if snapshot.structure.spec == "stack":
        return stack_contents(snapshot)
    return None


def draw_queue(snapshot: Snapshot, *, mark: int | None = None, held: dict[int, int] | None = None) -> str:
    """One line: the chain from its entry root, where it is cut, the exit
    root, and what leaked, e.g. ``head → #3 → #2 → #0 ✂  tail → #5   leaked:
    #4 → #5``; a stack: ``top → #2(3) → #1(2)``. Empty when the structure
    declares no chain. ``mark``: a slot to bracket wherever it appears
    (``[#0(6)]``), e.g. the node a report's decisive step touched. ``held``:
    unreachable nodes that are in a thread's hands (slot → thread: allocated
    and not yet linked, or unlinked and not yet freed), drawn as
    ``held by T1: #4``, not as leaked."""
    info = snapshot.structure
    start = info.chain_entry
    if start is None:
        return ""
    vf = info.value_field

    def label(slot: int) -> str:
        text = f"#{slot}" if vf is None else f"#{slot}({snapshot.slots[slot].words[vf]})"
        return f"[{text}]" if slot == mark else text

    chain = follow(snapshot, snapshot.roots[start][0], start)
    parts = [start] + [label(s) for s in chain.slots]
    text = " → ".join(parts)
    if chain.ends_in == "cycle":
        text += f" → #{chain.stop} ↺ (cycle)"
    elif chain.ends_in == "freed":
        stop = f"[#{chain.stop}]" if chain.stop == mark else f"#{chain.stop}"
        text += f" → {stop} (FREE!)"
    tail = snapshot.roots[info.chain_exit][0] if info.chain_exit is not None else None
    if tail is not None:
        cut = tail not in chain.slots
        text += (("   ⇢ (severed) … " if cut else "   ") + f"{info.chain_exit} → "
                 + (f"[#{tail}]" if tail == mark else f"#{tail}"))
    unreachable = leaked_slots(snapshot)
    held = {s: t for s, t in (held or {}).items() if s in unreachable}
    for tid in sorted(set(held.values())):
        mine = [s for s in unreachable if held.get(s) == tid]
        text += f"   held by T{tid}: " + " → ".join(label(s) for s in _leaked_chains(snapshot, mine))
    leaked = [s for s in unreachable if s not in held]
    if leaked:
        text += "   leaked: " + " → ".join(label(s) for s in _leaked_chains(snapshot, leaked))
    return text


def _leaked_chains(snapshot: Snapshot, leaked: list[int]) -> list[int]:
    """Leaked slots in link order (heads of leaked chains first)."""
    nf = snapshot.structure.next_field
    leaked_set = set(leaked)
    pointed = {snapshot.slots[s].refs[nf] for s in leaked if nf is not None} & leaked_set
    ordered: list[int] = []
    for start in [s for s in leaked if s not in pointed] + leaked:
        slot = start
        while slot is not None and slot in leaked_set and slot not in ordered:
            ordered.append(slot)
            slot = snapshot.slots[slot].refs[nf] if nf is not None else None
    return ordered
