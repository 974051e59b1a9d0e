"""Service periods on campus time: which period a moment falls in, and whether its day is a weekday."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from engine.worktime import WorkCalendar
from workflows.places import Kind, period_at


def day_type(calendar: WorkCalendar, day: date) -> str:
    """weekday (any working day, make-up Saturdays included), weekend, or holiday (statutory or campus-closed)."""
    if calendar.is_working_day(day):
        return "weekday"
    if day.weekday() >= 5 and not calendar.is_public_holiday(day):
        return "weekend"
    return "holiday"


@dataclass(frozen=True)
class Moment:
    """Where a check falls in service time."""

    period: str | None
    service_day: date
    day_type: str

    @property
    def day_number(self) -> int:
        return self.service_day.toordinal()

    @property
    def month_number(self) -> int:
        return self.service_day.year * 12 + self.service_day.month - 1


def moment(calendar: WorkCalendar, kind: Kind | None, at: datetime) -> Moment:
    """The service period (None outside all of them) and service day of `at` for a place of `kind`."""
    local = at.astimezone(calendar.zone)
    if kind is None:
        period, day = None, local.date()
    else:
        period, day = period_at(kind, local, lambda d: day_type(calendar, d))
    return Moment(period, day, day_type(calendar, day))
