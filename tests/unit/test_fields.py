"""Payload checks against a transition's declared fields: types, limits, required and unknown keys."""
from __future__ import annotations

import pytest

from engine.fields import field_problems
from workflows.model import Field, Label, Transition

SANCTION = Transition(
    event="sanction", sources=("escalated",), dest="rectifying", roles=("leader",), label=Label("追责", "Sanction"),
    fields=(
        Field("kind", "choice", choices=("criticism", "warning")),
        Field("decision", "text", max_length=10),
        Field("points", "number", required=False, min=0, max=100),
        Field("deadline", "date", required=False),
        Field("photos", "attachments", required=False),
    ),
)
GOOD = {"kind": "warning", "decision": "通报批评"}


def check(payload):
    return field_problems(SANCTION, payload)


def test_valid_payload_has_no_problems():
    assert check(GOOD) == ({}, True)
    assert check({**GOOD, "points": 5, "deadline": "2025-03-01", "photos": [1, 2]})[0] == {}


def test_missing_required_fields_are_only_missing():
    problems, only_missing = check({})
    assert problems == {"kind": "required", "decision": "required"}
    assert only_missing


@pytest.mark.parametrize("empty", ["", None, []])
def test_empty_values_count_as_missing(empty):
    problems, only_missing = check({**GOOD, "decision": empty})
    assert problems == {"decision": "required"} and only_missing


def test_text_type_and_max_length():
    assert check({**GOOD, "decision": 12})[0] == {"decision": "must be text"}
    problems, only_missing = check({**GOOD, "decision": "十" * 11})
    assert problems == {"decision": "at most 10 characters"} and not only_missing
    assert check({**GOOD, "decision": "十" * 10})[0] == {}  # counted in characters, not bytes


def test_choice_must_be_listed():
    problems, _ = check({**GOOD, "kind": "fine"})
    assert "kind" in problems and "criticism" in problems["kind"] and "warning" in problems["kind"]


@pytest.mark.parametrize("value, message", [
    (-1, "must be at least 0"), (101, "must be at most 100"), ("5", "must be a number"), (True, "must be a number"),
])
def test_number_limits_and_bool_refused(value, message):
    assert check({**GOOD, "points": value})[0] == {"points": message}


@pytest.mark.parametrize("value", [0, 100, 2.5])
def test_number_bounds_are_inclusive(value):
    assert check({**GOOD, "points": value})[0] == {}


@pytest.mark.parametrize("value", ["2025-3-1", "2025-02-30", "20250301", "next week", 20250301])
def test_date_format(value):
    assert check({**GOOD, "deadline": value})[0] == {"deadline": "must be a date as YYYY-MM-DD"}


@pytest.mark.parametrize("value", [1, "1", [1, "2"], [True], {"id": 1}])
def test_attachments_are_a_list_of_ids(value):
    assert check({**GOOD, "photos": value})[0] == {"photos": "must be a list of attachment ids"}


def test_unknown_field_is_an_error_naming_the_expected_ones():
    problems, only_missing = check({**GOOD, "amount": 3})
    assert list(problems) == ["amount"]
    assert "decision" in problems["amount"] and "sanction" in problems["amount"]
    assert not only_missing


def test_missing_plus_invalid_is_not_only_missing():
    problems, only_missing = check({"kind": "fine"})
    assert set(problems) == {"kind", "decision"} and not only_missing


def test_transition_without_fields_refuses_any_payload():
    bare = Transition("archive", ("closed",), "archived", ("admin",), Label("归档", "Archive"))
    problems, _ = field_problems(bare, {"note": "x"})
    assert "none" in problems["note"]
    assert field_problems(bare, {}) == ({}, True)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_numbers_that_are_not_finite_are_refused(value):
    assert check({**GOOD, "points": value})[0] == {"points": "must be a number"}
