"""Behaviour of the operation-history model and the linearizability checker."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import combinations, permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stress.checks.linearizability import QueueSpec, SequentialSpec, StackSpec, check_linearizable
from stress.errors import UsageError
from stress.history import History, Operation
from tests.benchmarks.linearizability import benchmark
from tests.histories import PlannedOperation, queue_history_from_plan

EMPTY = "empty"


def insert(tid: int, value: int, invoke: int, response: int | None, op: str = "enqueue") -> Operation:
    return Operation(tid, op, value, None, False, invoke, response)


def remove(tid: int, result: int | str | None, invoke: int, response: int | None, op: str = "dequeue") -> Operation:
    """``result`` is a value, EMPTY, or None for a pending removal."""
    if result == EMPTY:
        return Operation(tid, op, None, None, True, invoke, response)
    return Operation(tid, op, None, result, False, invoke, response)


def push(tid: int, value: int, invoke: int, response: int | None) -> Operation:
    return insert(tid, value, invoke, response, op="push")


def pop(tid: int, result: int | str | None, invoke: int, response: int | None) -> Operation:
    return remove(tid, result, invoke, response, op="pop")


def is_valid_order(order: Sequence[Operation], spec: SequentialSpec, initial: Hashable) -> bool:
    """True when ``order`` respects real time and the spec accepts it."""
    if any(later.precedes(earlier) for i, earlier in enumerate(order) for later in order[i + 1 :]):
        return False
    state = initial
    for op in order:
        state = spec.step(state, op)
        if state is None:
            return False
    return True


def assert_valid_witness(history: Sequence[Operation], spec: SequentialSpec, initial: Hashable = ()) -> None:
    result = check_linearizable(history, spec, initial=initial)
    assert result.ok is True, result.message
    assert set(result.witness) >= set(History(history).completed)
    assert set(result.witness) <= set(history)
    assert is_valid_order(result.witness, spec, initial)


# --- the history model ---------------------------------------------------


def test_history_separates_completed_and_pending_operations() -> None:
    done, stuck = insert(0, 1, 0, 1), remove(1, None, 0, None)
    history = History([done, stuck])
    assert history.completed == (done,)
    assert history.pending == (stuck,)
    assert history.threads == (0, 1)


@pytest.mark.parametrize(
    "operations, complaint",
    [
        ([insert(0, 1, 5, 4)], "responds before it is invoked"),
        ([insert(0, 1, 0, 5), insert(0, 2, 3, 8)], "two operations at once"),
        ([insert(0, 1, 0, None), insert(0, 2, 3, 8)], "never returned"),
    ],
)
def test_malformed_histories_are_rejected_with_a_reason(operations: list[Operation], complaint: str) -> None:
    with pytest.raises(UsageError, match=complaint):
        History(operations)


def test_describe_names_thread_operation_outcome_and_steps() -> None:
    assert remove(2, 7, 4, 9).describe() == "thread 2: dequeue() -> 7, steps 4-9"
    assert remove(1, EMPTY, 3, 3).describe() == "thread 1: dequeue() -> empty, steps 3-3"
    assert insert(0, 5, 2, None).describe() == "thread 0: enqueue(5), invoked at step 2, never returned"


# --- queues: linearizable histories --------------------------------------


def test_empty_history_is_linearizable() -> None:
    result = check_linearizable([], QueueSpec())
    assert result.ok is True and result.witness == ()


def test_sequential_fifo_history_is_linearizable_in_its_own_order() -> None:
    history = [insert(0, 1, 0, 1), insert(1, 2, 2, 3), remove(2, 1, 4, 5), remove(0, 2, 6, 7), remove(1, EMPTY, 8, 9)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is True
    assert result.witness == tuple(history)


def test_slow_enqueue_must_take_effect_after_a_later_invoked_one() -> None:
    # Thread 0's enqueue(1) is invoked first, but thread 1 enqueues 2 and
    # dequeues 2 inside its interval, so enqueue(1) must take effect after
    # enqueue(2): placing it in invocation order fails and the search backtracks.
    history = [insert(0, 1, 0, 10), insert(1, 2, 1, 2), remove(1, 2, 3, 4), remove(2, 1, 11, 12)]
    assert_valid_witness(history, QueueSpec())
    witness = check_linearizable(history, QueueSpec()).witness
    assert witness.index(history[1]) < witness.index(history[0])


def test_dequeues_overlapping_enqueues_may_see_them_in_either_order() -> None:
    history = [insert(0, 1, 0, 6), insert(1, 2, 0, 6), remove(2, 2, 1, 7), remove(2, 1, 8, 9)]
    assert_valid_witness(history, QueueSpec())


def test_empty_dequeue_overlapping_the_only_enqueue_is_linearizable() -> None:
    history = [insert(0, 1, 0, 5), remove(1, EMPTY, 2, 3), remove(1, 1, 6, 7)]
    assert_valid_witness(history, QueueSpec())


def test_a_shared_step_index_across_threads_counts_as_overlap() -> None:
    history = [insert(0, 1, 0, 2), insert(1, 2, 2, 4), remove(2, 2, 5, 6), remove(2, 1, 7, 8)]
    assert check_linearizable(history, QueueSpec()).ok is True


def test_initial_contents_come_out_first() -> None:
    history = [insert(0, 1, 0, 1), remove(1, 5, 2, 3), remove(1, 1, 4, 5)]
    assert check_linearizable(history, QueueSpec(), initial=(5,)).ok is True
    assert check_linearizable(history, QueueSpec()).ok is False


# --- queues: non-linearizable histories ----------------------------------


def test_fifo_violation_between_non_overlapping_operations_is_explained() -> None:
    history = [insert(0, 1, 0, 1), insert(0, 2, 2, 3), remove(1, 2, 4, 5), remove(2, 1, 6, 7)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is False
    assert result.witness is None
    assert result.longest_prefix == tuple(history[:2])
    assert result.unplaceable == history[2]
    assert "thread 1: dequeue() -> 2, steps 4-5" in result.message
    assert "front of the queue was 1" in result.message
    assert "[1, 2]" in result.message


def test_dequeue_of_a_value_never_enqueued_is_not_linearizable() -> None:
    history = [insert(0, 1, 0, 1), remove(1, 9, 0, 3)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is False
    assert "returned 9, which was not in the queue at all" in result.message


def test_empty_dequeue_while_the_queue_provably_holds_a_value() -> None:
    history = [insert(0, 1, 0, 1), remove(1, EMPTY, 2, 3), remove(0, 1, 4, 5)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is False
    assert result.unplaceable == history[1]
    assert "found the queue empty, but the queue held [1]" in result.message


def test_same_thread_operations_are_ordered_even_when_their_steps_touch() -> None:
    # Unlike the cross-thread case above, program order puts enqueue(1) first.
    history = [insert(0, 1, 0, 2), insert(0, 2, 2, 4), remove(1, 2, 5, 6), remove(1, 1, 7, 8)]
    assert check_linearizable(history, QueueSpec()).ok is False


def test_value_dequeued_twice_is_not_linearizable() -> None:
    history = [insert(0, 1, 0, 1), remove(1, 1, 2, 6), remove(2, 1, 2, 6)]
    assert check_linearizable(history, QueueSpec()).ok is False


# --- pending operations --------------------------------------------------


def test_pending_enqueue_may_have_taken_effect() -> None:
    history = [insert(0, 3, 0, None), remove(1, 3, 1, 2)]
    assert_valid_witness(history, QueueSpec())


def test_pending_dequeue_may_be_dropped() -> None:
    history = [insert(0, 1, 0, 1), remove(1, None, 2, None), remove(2, 1, 3, 4)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is True
    assert history[1] not in result.witness


def test_pending_dequeue_may_have_taken_the_front_value() -> None:
    history = [insert(0, 1, 0, 1), insert(0, 2, 2, 3), remove(1, None, 4, None), remove(2, 2, 5, 6)]
    result = check_linearizable(history, QueueSpec())
    assert result.ok is True
    assert history[2] in result.witness


def test_pending_operation_cannot_take_effect_before_its_invocation() -> None:
    history = [remove(1, 3, 0, 2), insert(0, 3, 5, None)]
    assert check_linearizable(history, QueueSpec()).ok is False


# --- stacks and user models ----------------------------------------------


def test_stack_concurrent_pushes_may_pop_in_either_order() -> None:
    history = [push(0, 1, 0, 4), push(1, 2, 0, 4), pop(2, 1, 5, 6), pop(2, 2, 7, 8), pop(2, EMPTY, 9, 9)]
    assert_valid_witness(history, StackSpec())


def test_stack_pop_must_return_the_last_push() -> None:
    history = [push(0, 1, 0, 1), push(0, 2, 2, 3), pop(1, 1, 4, 5)]
    result = check_linearizable(history, StackSpec())
    assert result.ok is False
    assert "top of the stack was 2" in result.message


def test_stack_initial_contents_are_listed_bottom_first() -> None:
    history = [pop(0, 2, 0, 1), pop(0, 1, 2, 3)]
    assert check_linearizable(history, StackSpec(), initial=(1, 2)).ok is True


def test_operation_unknown_to_the_spec_is_an_error() -> None:
    with pytest.raises(UsageError, match="a queue has no operation 'push'"):
        check_linearizable([push(0, 1, 0, 1)], QueueSpec())


class Register:
    """A user model: an integer register with write(x) and read() -> x."""

    def init(self) -> int:
        return 0

    def step(self, state: int, op: Operation) -> int | None:
        if op.op == "write":
            return op.arg
        return state if op.pending or op.result == state else None


def test_user_model_accepts_a_read_overlapping_a_write() -> None:
    history = [Operation(0, "write", 5, None, False, 0, 4), Operation(1, "read", None, 5, False, 1, 2)]
    assert isinstance(Register(), SequentialSpec)
    assert_valid_witness(history, Register(), initial=0)


def test_user_model_rejects_a_stale_read_with_a_generic_explanation() -> None:
    history = [Operation(0, "write", 5, None, False, 0, 1), Operation(1, "read", None, 0, False, 2, 3)]
    result = check_linearizable(history, Register())
    assert result.ok is False
    assert "no sequential Register order" in result.message
    assert "the model state is 5" in result.message
    assert "thread 1: read() -> 0, steps 2-3: the model rejects its result" in result.message


# --- time budget ---------------------------------------------------------


def test_exhausted_time_budget_gives_an_unknown_verdict() -> None:
    history = [insert(0, 1, 0, 1), remove(1, 1, 2, 3)]
    result = check_linearizable(history, QueueSpec(), time_budget=0)
    assert result.ok is None
    assert "time budget ran out" in result.message


# --- properties ------------------------------------------------------------

planned_operations = st.builds(
    PlannedOperation,
    tid=st.integers(0, 2),
    op=st.sampled_from(["enqueue", "dequeue"]),
    lead=st.integers(0, 40),
    lag=st.one_of(st.integers(0, 40), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(planned_operations, max_size=14), st.lists(st.integers(100, 102), max_size=2))
def test_histories_of_a_real_sequential_queue_are_linearizable(
    plan: list[PlannedOperation], initial: list[int]
) -> None:
    history = queue_history_from_plan(plan, initial)
    assert_valid_witness(history, QueueSpec(), initial=tuple(initial))


def brute_force_linearizable(history: History, spec: SequentialSpec, initial: Hashable) -> bool:
    """Try every subset of pending operations and every order."""
    pending = history.pending
    for count in range(len(pending) + 1):
        for took_effect in combinations(pending, count):
            if any(is_valid_order(order, spec, initial) for order in permutations(history.completed + took_effect)):
                return True
    return False


@st.composite
def small_queue_histories(draw: st.DrawFn) -> History:
    """Up to six arbitrary queue operations on up to three threads, with
    random overlaps and results drawn from a small range so that both
    verdicts are common."""
    operations = []
    for tid in range(draw(st.integers(1, 3))):
        clock = draw(st.integers(0, 6))
        for n in range(draw(st.integers(0, 2))):
            invoke = clock + draw(st.integers(0, 3))
            response = invoke + draw(st.integers(0, 6))
            clock = response + 1
            is_last = n == 1
            if is_last and draw(st.booleans()) and draw(st.booleans()):
                response = None
            if draw(st.booleans()):
                operations.append(insert(tid, draw(st.integers(1, 2)), invoke, response))
            elif response is None:
                operations.append(remove(tid, None, invoke, None))
            else:
                operations.append(remove(tid, draw(st.sampled_from([1, 2, EMPTY])), invoke, response))
    return History(operations)


@settings(max_examples=400, deadline=None)
@given(small_queue_histories(), st.sampled_from([(), (1,), (2, 1)]))
def test_checker_agrees_with_brute_force_on_small_histories(history: History, initial: tuple[int, ...]) -> None:
    result = check_linearizable(history, QueueSpec(), initial=initial)
    assert result.ok is brute_force_linearizable(history, QueueSpec(), initial)
    if result.ok:
        assert is_valid_order(result.witness, QueueSpec(), initial)


def test_benchmark_reports_figures_for_twelve_operations_on_three_threads() -> None:
    figures = benchmark(samples=20)
    assert figures["operations"] == 12 and figures["threads"] == 3
    assert 0 < figures["median_ms"] <= figures["max_ms"]
