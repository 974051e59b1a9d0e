"""Working-time arithmetic for due dates: campus hours, China's statutory holidays and make-up working days."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from workflows.durations import Duration

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(8, 0), time(12, 0)), (time(14, 0), time(17, 30)))
_PLAIN_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}
_ONE_DAY = timedelta(days=1)
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


@lru_cache(maxsize=16)
def _china(first_year: int, last_year: int) -> holidays.HolidayBase:
    # Building the table means lunar-calendar maths for every year; all calendars share one per year range.
    return holidays.China(years=range(first_year, last_year + 1))


def _fmt(t: time) -> str:
    return t.strftime("%H:%M")


def _dates(values: Iterable[date | str] | str, what: str) -> frozenset[date]:
    # Settings arrive as text (env vars, admin forms), so ISO strings and "a,b,c" are accepted too.
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    out = set()
    for v in values:
        if isinstance(v, datetime):
            raise TypeError(f"{what} must be dates, not datetimes: {v!r}")
        if isinstance(v, str):
            try:
                v = date.fromisoformat(v.strip())
            except ValueError:
                raise ValueError(f"bad date in {what}: {v!r} (expected YYYY-MM-DD)") from None
        if not isinstance(v, date):
            raise TypeError(f"{what} must be dates: {v!r}")
        out.add(v)
    return frozenset(out)


def _parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    periods = []
    for part in text.split(","):
        match = _SPAN.match(part.strip())
        try:
            if not match:
                raise ValueError
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            periods.append((time(h1, m1), time(h2, m2)))
        except ValueError:
            raise ValueError(
                f"bad working-hours part {part.strip()!r} in {text!r}: expected HH:MM-HH:MM, "
                "e.g. '08:00-12:00,14:00-17:30'"
            ) from None
    return tuple(periods)


def _aware_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({value.isoformat()}); give it a time zone")
    return value.astimezone(UTC)


class WorkCalendar:
    """Working time on campus: zone, working hours, China's statutory holidays and make-up working days
    (from the maintained `holidays` package), plus extra closed and open days an administrator adds."""

    def __init__(self, tz: str = "Asia/Shanghai",
                 periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS,
                 closed_days: Iterable[date] = (), open_days: Iterable[date] = ()):
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        self.tz = tz
        periods = tuple((start, end) for start, end in periods)
        if not periods:
            raise ValueError("at least one working period is needed")
        previous_end = None
        for start, end in periods:
            span = f"{_fmt(start)}-{_fmt(end)}"
            if end <= start:
                raise ValueError(f"working period {span} ends before it starts (periods cannot cross midnight)")
            if previous_end is not None and start < previous_end:
                raise ValueError(f"working period {span} overlaps or precedes the one before it")
            previous_end = end
        self.periods = periods
        self.closed_days = _dates(closed_days, "closed_days")
        self.open_days = _dates(open_days, "open_days")
        both = self.closed_days & self.open_days
        if both:
            raise ValueError(f"days both closed and open: {', '.join(sorted(d.isoformat() for d in both))}")
        self._table: tuple[int, int, holidays.HolidayBase] | None = None
        self._working: dict[date, bool] = {}

    @classmethod
    def from_settings(cls, hours: str | None = None, tz: str | None = None,
                      closed_days=(), open_days=()) -> WorkCalendar:
        periods = _parse_hours(hours) if hours and hours.strip() else DEFAULT_PERIODS
        return cls(tz or "Asia/Shanghai", periods, closed_days, open_days)

    def __repr__(self) -> str:
        hours = ",".join(f"{_fmt(s)}-{_fmt(e)}" for s, e in self.periods)
        return (f"WorkCalendar(tz={self.tz!r}, hours={hours!r}, "
                f"closed={len(self.closed_days)}, open={len(self.open_days)})")

    def _holidays(self, year: int) -> holidays.HolidayBase:
        table = self._table
        if table is None or not table[0] <= year <= table[1]:
            lo, hi = (year, year) if table is None else (min(table[0], year), max(table[1], year))
            # Padded by a year each side: a make-up Saturday in late December is recorded while populating the
            # following year. Only [lo, hi] is ever queried, so the shared table never auto-expands (mutates).
            table = (lo, hi, _china(lo - 1, hi + 1))
            self._table = table  # one assignment, so a concurrent reader sees a consistent triple
        return table[2]

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise TypeError(f"is_working_day takes a date, not {type(d).__name__}")
        cached = self._working.get(d)
        if cached is None:
            if d in self.closed_days:
                cached = False
            elif d in self.open_days:
                cached = True
            else:
                cached = self._holidays(d.year).is_working_day(d)
            self._working[d] = cached
        return cached

    def is_public_holiday(self, d: date) -> bool:
        """A statutory holiday (春节, 国庆节, ...) or a day the campus closed on top of the national calendar."""
        return d in self.closed_days or (d not in self.open_days and d in self._holidays(d.year))

    def _day_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return []
        # Bounds in UTC so working time is real elapsed time, even on a DST change day in the calendar's zone.
        return [(datetime.combine(d, s, self.zone).astimezone(UTC),
                 datetime.combine(d, e, self.zone).astimezone(UTC)) for s, e in self.periods]

    def _one_day(self) -> timedelta:
        return sum((datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in self.periods),
                   timedelta())

    def _amount(self, duration: Duration) -> tuple[timedelta, bool]:
        if duration.amount < 0:
            raise ValueError(f"a duration must not be negative: {duration}")
        if duration.unit in _PLAIN_SECONDS:
            return timedelta(seconds=duration.amount * _PLAIN_SECONDS[duration.unit]), False
        if duration.unit == "working_hours":
            return timedelta(hours=duration.amount), True
        if duration.unit == "working_days":
            # "N working days" = N full working days of working time, so it lands at the same clock time.
            return self._one_day() * duration.amount, True
        raise ValueError(f"unknown duration unit {duration.unit!r}")

    def add(self, start: datetime, duration: Duration) -> datetime:
        current = _aware_utc(start, "start")
        remaining, working = self._amount(duration)
        if not working:
            return current + remaining
        if not remaining:
            return current
        day = current.astimezone(self.zone).date()
        while True:
            for s, e in self._day_periods(day):
                if e <= current:
                    continue
                s = max(s, current)
                # "<=" so a deadline that uses up a period exactly is that period's end, not the next one's start.
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
            day += _ONE_DAY

    def subtract(self, end: datetime, duration: Duration) -> datetime:
        current = _aware_utc(end, "end")
        remaining, working = self._amount(duration)
        if not working:
            return current - remaining
        if not remaining:
            return current
        day = current.astimezone(self.zone).date()
        while True:
            for s, e in reversed(self._day_periods(day)):
                if s >= current:
                    continue
                e = min(e, current)
                if remaining <= e - s:
                    return e - remaining
                remaining -= e - s
            day -= _ONE_DAY

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        a, b = _aware_utc(a, "a"), _aware_utc(b, "b")
        if b <= a:
            return 0.0
        total = timedelta()
        day, last = a.astimezone(self.zone).date(), b.astimezone(self.zone).date()
        while day <= last:
            for s, e in self._day_periods(day):
                s, e = max(s, a), min(e, b)
                if e > s:
                    total += e - s
            day += _ONE_DAY
        return total.total_seconds()
