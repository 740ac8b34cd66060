"""Behaviour of the value-conservation check and the combined history check."""

from __future__ import annotations

import json

import pytest

from stress.checks.values import check_conservation, check_history
from stress.errors import UsageError
from stress.history import Operation


def enqueue(tid: int, value: int, invoke: int, response: int | None, op: str = "enqueue") -> Operation:
    return Operation(tid, op, value, None, False, invoke, response)


def dequeue(tid: int, result: int | None, invoke: int, response: int | None, op: str = "dequeue") -> Operation:
    """``result`` None means found-empty for a completed operation."""
    return Operation(tid, op, None, result, result is None and response is not None, invoke, response)


def kinds(violations: list) -> list[str]:
    return [violation.kind for violation in violations]


def test_every_value_accounted_for_is_clean() -> None:
    history = [enqueue(0, 1, 0, 1), enqueue(0, 2, 2, 3), dequeue(1, 1, 4, 5), dequeue(1, None, 6, 7)]
    assert check_conservation(history, initial=(), final=[2]) == []


def test_value_dequeued_twice_is_a_duplicate_naming_threads_and_steps() -> None:
    history = [enqueue(0, 7, 0, 1), dequeue(1, 7, 2, 4), dequeue(2, 7, 3, 6)]
    [violation] = check_conservation(history, final=[])
    assert violation.kind == "duplicate-value"
    assert violation.step == 6 and violation.thread == 2
    assert "value 7 came out 2 times" in violation.message
    assert "thread 1: dequeue() -> 7, steps 2-4" in violation.message
    assert "thread 2: dequeue() -> 7, steps 3-6" in violation.message
    assert "went in once (thread 0: enqueue(7), steps 0-1)" in violation.message


def test_value_that_never_went_in_is_a_duplicate() -> None:
    [violation] = check_conservation([dequeue(0, 42, 0, 1)])
    assert violation.kind == "duplicate-value"
    assert "value 42 came out once" in violation.message
    assert "never went in" in violation.message


def test_value_dequeued_and_still_in_the_structure_is_a_duplicate() -> None:
    history = [enqueue(0, 3, 0, 1), dequeue(1, 3, 2, 3)]
    [violation] = check_conservation(history, final=[3])
    assert violation.kind == "duplicate-value"
    assert "is still in the structure once" in violation.message


def test_repeated_values_are_counted_not_deduplicated() -> None:
    history = [enqueue(0, 5, 0, 1), enqueue(1, 5, 0, 1), dequeue(2, 5, 2, 3), dequeue(2, 5, 4, 5)]
    assert check_conservation(history, final=[]) == []
    [violation] = check_conservation(history[:3], final=[])
    assert violation.kind == "lost-value"
    assert "value 5 went in 2 times" in violation.message
    assert "came out only once" in violation.message
    assert "1 copy lost" in violation.message


def test_value_neither_dequeued_nor_remaining_is_lost() -> None:
    history = [enqueue(0, 1, 0, 1), enqueue(1, 2, 0, 1), dequeue(2, 2, 2, 3)]
    [violation] = check_conservation(history, final=[])
    assert violation.kind == "lost-value"
    assert violation.thread == 0 and violation.step is None
    assert "value 1 went in once (thread 0: enqueue(1), steps 0-1) but never came out" in violation.message
    assert "final contents [] does not hold it" in violation.message


def test_nothing_is_lost_when_it_is_still_in_the_structure_or_contents_are_unknown() -> None:
    history = [enqueue(0, 1, 0, 1)]
    assert check_conservation(history, final=[1]) == []
    assert check_conservation(history, final=None) == []


def test_initial_contents_count_as_gone_in() -> None:
    assert kinds(check_conservation([], initial=[9], final=[])) == ["lost-value"]
    assert "initially present" in check_conservation([], initial=[9], final=[])[0].message
    assert check_conservation([dequeue(0, 9, 0, 1)], initial=[9], final=[]) == []


def test_pending_enqueue_may_or_may_not_have_happened() -> None:
    pending = enqueue(0, 4, 0, None)
    assert check_conservation([pending, dequeue(1, 4, 1, 2)], final=[]) == []
    assert check_conservation([pending], final=[]) == []


def test_pending_dequeue_may_have_taken_a_missing_value_but_not_two() -> None:
    one_missing = [enqueue(0, 4, 0, 1), dequeue(1, None, 2, None)]
    assert check_conservation(one_missing, final=[]) == []
    two_missing = [enqueue(0, 4, 0, 1), enqueue(0, 5, 2, 3), dequeue(1, None, 4, None)]
    violations = check_conservation(two_missing, final=[])
    assert kinds(violations) == ["lost-value", "lost-value"]
    assert "1 removal(s) that never returned" in violations[0].message


def test_operations_are_counted_by_the_names_given() -> None:
    history = [enqueue(0, 8, 0, 1, op="push"), dequeue(1, 8, 2, 3, op="pop"), dequeue(2, 8, 4, 5, op="pop")]
    assert kinds(check_conservation(history, final=[], insert="push", remove="pop")) == ["duplicate-value"]
    # Under other names the same operations are not insertions or removals.
    assert check_conservation(history, final=[]) == []


def test_violations_serialise_to_json() -> None:
    history = [enqueue(0, 7, 0, 1), dequeue(1, 7, 2, 4), dequeue(2, 7, 3, 6), enqueue(0, 8, 2, 3)]
    for violation in check_conservation(history, final=[]):
        json.dumps(violation.to_json())


# --- check_history ---------------------------------------------------------


def test_check_history_of_a_correct_queue_has_no_violations() -> None:
    history = [enqueue(0, 1, 0, 1), enqueue(1, 2, 0, 3), dequeue(2, 1, 4, 5)]
    result = check_history(history, "queue", initial=(), final=[2])
    assert result.violations == []
    assert result.linearizability.ok is True


def test_check_history_reports_a_fifo_violation_as_not_linearizable() -> None:
    history = [enqueue(0, 1, 0, 1), enqueue(0, 2, 2, 3), dequeue(1, 2, 4, 5), dequeue(1, 1, 6, 7)]
    result = check_history(history, "queue", initial=(), final=[])
    [violation] = result.violations
    assert violation.kind == "not-linearizable"
    assert violation.step == 5 and violation.thread == 1
    assert violation.message == result.linearizability.message
    json.dumps(violation.to_json())


def test_check_history_reports_conservation_and_linearizability_together() -> None:
    history = [enqueue(0, 1, 0, 1), dequeue(1, 1, 2, 3), dequeue(1, 1, 4, 5)]
    result = check_history(history, "queue", final=[])
    assert kinds(result.violations) == ["duplicate-value", "not-linearizable"]


def test_check_history_uses_initial_contents_and_the_stack_spec() -> None:
    history = [enqueue(0, 3, 0, 1, op="push"), dequeue(1, 3, 2, 3, op="pop"), dequeue(1, 2, 4, 5, op="pop")]
    result = check_history(history, "stack", initial=[1, 2], final=[1])
    assert result.violations == []
    assert result.linearizability.ok is True


def test_check_history_with_exhausted_budget_reports_unknown_without_a_violation() -> None:
    history = [enqueue(0, 1, 0, 1), dequeue(1, 1, 2, 3)]
    result = check_history(history, "queue", final=[], time_budget=0)
    assert result.violations == []
    assert result.linearizability.ok is None
    assert "time budget ran out" in result.linearizability.message


def test_check_history_rejects_an_unknown_structure() -> None:
    with pytest.raises(UsageError, match="unknown structure 'deque'"):
        check_history([], "deque")
