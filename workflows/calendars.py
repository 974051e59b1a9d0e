"""Named working calendars as configured beside the workflows: working hours and which days are worked."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time

from workflows.model import Label

OFFICE = "office"  # built in: office hours (XUNCHA_WORK_HOURS) on China's national calendar
# workdays: the national working days (weekends and statutory holidays off, make-up working days worked), with the
#   administrator's closed and open days; all_but_holidays: seven days a week except the statutory holidays (and
#   the administrator's closed days); all: every day of the year, whatever the national calendar says.
DAY_KINDS = ("workdays", "all_but_holidays", "all")
Period = tuple[time, time | None]  # an end of None is 24:00, the end of the day
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class CalendarSpec:
    """A named calendar: when its days are worked and which days those are."""

    name: str
    label: Label
    periods: tuple[Period, ...]
    days: str = "workdays"
    line: int | None = field(default=None, compare=False)

    @property
    def hours(self) -> str:
        return format_hours(self.periods)


def format_hours(periods: tuple[Period, ...]) -> str:
    return ",".join(f"{s:%H:%M}-{'24:00' if e is None else format(e, '%H:%M')}" for s, e in periods)


def parse_hours(text: str) -> tuple[Period, ...]:
    """`08:00-12:00,14:00-17:30` as periods; `24:00` may end the last one. Raises ValueError naming the part."""
    periods: list[Period] = []
    for part in text.split(","):
        match = _SPAN.match(part.strip())
        try:
            if not match:
                raise ValueError
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            periods.append((time(h1, m1), None if (h2, m2) == (24, 0) else time(h2, m2)))
        except ValueError:
            raise ValueError(
                f"bad working-hours part {part.strip()!r} in {text!r}: expected HH:MM-HH:MM, "
                "e.g. '08:00-12:00,14:00-17:30' or '00:00-24:00'"
            ) from None
    check_periods(tuple(periods))
    return tuple(periods)


def check_periods(periods: tuple[Period, ...]) -> None:
    """Refuse periods that are empty, run backwards or overlap (they cannot cross midnight)."""
    if not periods:
        raise ValueError("at least one working period is needed")
    previous_end: time | None = None
    for index, (start, end) in enumerate(periods):
        span = format_hours(((start, end),))
        if end is not None and end <= start:
            raise ValueError(f"working period {span} ends before it starts (periods cannot cross midnight)")
        if index and (previous_end is None or start < previous_end):
            raise ValueError(f"working period {span} overlaps or precedes the one before it")
        previous_end = end
