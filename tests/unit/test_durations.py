"""Durations as administrators write them in YAML, in English or Chinese, calendar or working time."""
from __future__ import annotations

import pytest

from workflows.durations import Duration, parse_duration


@pytest.mark.parametrize("text, amount, unit", [
    ("72h", 72, "hours"),
    ("30m", 30, "minutes"),
    ("2d", 2, "days"),
    ("1.5 hours", 1.5, "hours"),
    ("3 working days", 3, "working_days"),
    ("1 working day", 1, "working_days"),
    ("2 working hours", 2, "working_hours"),
    ("3个工作日", 3, "working_days"),
    ("4 工作小时", 4, "working_hours"),
    ("2天", 2, "days"),
    ("45分钟", 45, "minutes"),
    ("  10 Minutes ", 10, "minutes"),
])
def test_parses(text, amount, unit):
    assert parse_duration(text) == Duration(amount, unit)


def test_bare_number_means_hours():
    assert parse_duration(24) == Duration(24.0, "hours")


def test_working_flag_and_text():
    assert parse_duration("3 working days").working
    assert not parse_duration("3 days").working
    assert str(parse_duration("3个工作日")) == "3 working days"
    assert str(parse_duration("1.5h")) == "1.5 hours"


@pytest.mark.parametrize("text, hint", [
    ("soon", "'soon'"),
    ("", "''"),
    ("3 fortnights", "fortnights"),
    ("0h", "positive"),
    ("30 working minutes", "hours or days"),
    ("-2h", "'-2h'"),
    ("h", "'h'"),
])
def test_refuses_with_the_text(text, hint):
    with pytest.raises(ValueError, match=hint):
        parse_duration(text)


@pytest.mark.parametrize("value", [True, None, [1], {"h": 1}])
def test_refuses_non_text(value):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)
