"""Working-time arithmetic for due dates: campus hours, China's statutory holidays and make-up working days."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from workflows.calendars import DAY_KINDS, Period, check_periods, format_hours, parse_hours
from workflows.durations import Duration

DEFAULT_PERIODS: tuple[Period, ...] = ((time(8, 0), time(12, 0)), (time(14, 0), time(17, 30)))
_PLAIN_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=16)
def _china(first_year: int, last_year: int) -> holidays.HolidayBase:
    # Building the table means lunar-calendar maths for every year; all calendars share one per year range.
    return holidays.China(years=range(first_year, last_year + 1))


@dataclass(frozen=True)
class NationalYear:
    """What the installed `holidays` package says about one year of China's national calendar."""

    year: int
    official: bool  # the State Council's schedule for the year is in the package; else estimated from the rules
    notice_years: tuple[int, int] | None  # first and last years whose schedule the package has
    days_off: tuple[tuple[date, str], ...]  # statutory holidays and the weekdays given off for them, named in Chinese
    make_up_days: tuple[date, ...]  # weekend days worked in exchange (调休上班)
    package_version: str = holidays.__version__


def _notice_years() -> frozenset[int]:
    # The package keeps each year's State Council notice (its days off moved, its make-up working days) in
    # ChinaStaticHolidays; years without one are computed from the statutory rules alone: estimates, and
    # without make-up working days. Should a release move that table, a year counts as official when the
    # package knows make-up working days for it.
    try:
        from holidays.countries.china import ChinaStaticHolidays
    except ImportError:
        return frozenset()
    return frozenset(getattr(ChinaStaticHolidays, "special_public_holidays", {}))


def national_year(year: int) -> NationalYear:
    """The installed `holidays` package's days off and make-up working days for `year`, and whether they are
    the State Council's published schedule (official) or estimated from the statutory rules."""
    table = holidays.China(years=range(year - 1, year + 2), language="zh_CN")
    days_off = tuple((d, str(name)) for d, name in sorted(table.items()) if d.year == year)
    make_up = tuple(sorted(d for d in table.weekend_workdays if d.year == year))
    notices = _notice_years()
    official = year in notices if notices else bool(make_up)
    return NationalYear(year, official, (min(notices), max(notices)) if notices else None, days_off, make_up)


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


def _aware_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({value.isoformat()}); give it a time zone")
    return value.astimezone(UTC)


class WorkCalendar:
    """Working time on campus: zone, working hours, China's statutory holidays and make-up working days
    (from the maintained `holidays` package), plus extra closed and open days an administrator adds.

    `days` says which days are worked (workflows.calendars.DAY_KINDS): the national working days (the default),
    every day but the statutory holidays, or every day; closed and open days override it."""

    def __init__(self, tz: str = "Asia/Shanghai",
                 periods: tuple[Period, ...] = DEFAULT_PERIODS,
                 closed_days: Iterable[date] = (), open_days: Iterable[date] = (), days: str = "workdays"):
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {tz!r}") from None
        if days not in DAY_KINDS:
            raise ValueError(f"unknown kind of days {days!r}; one of {', '.join(DAY_KINDS)}")
        self.tz, self.days = tz, days
        periods = tuple((start, end) for start, end in periods)
        check_periods(periods)
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
        periods = parse_hours(hours) if hours and hours.strip() else DEFAULT_PERIODS
        return cls(tz or "Asia/Shanghai", periods, closed_days, open_days)

    def __repr__(self) -> str:
        return (f"WorkCalendar(tz={self.tz!r}, hours={format_hours(self.periods)!r}, days={self.days!r}, "
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
            elif d in self.open_days or self.days == "all":
                cached = True
            elif self.days == "all_but_holidays":
                cached = not self._in_holiday_break(d)
            else:
                cached = self._holidays(d.year).is_working_day(d)
            self._working[d] = cached
        return cached

    def _in_holiday_break(self, d: date) -> bool:
        """Whether `d` lies in a statutory holiday break: a run of national days off holding a holiday (the
        weekend inside the Spring Festival week is part of it; an ordinary weekend is not)."""
        table = self._holidays(d.year)
        if table.is_working_day(d):
            return False
        for step in (-_ONE_DAY, _ONE_DAY):
            day = d
            while True:
                if day in self._holidays(day.year):
                    return True
                day += step
                if self._holidays(day.year).is_working_day(day):
                    break
        return False

    def is_public_holiday(self, d: date) -> bool:
        """A statutory holiday (春节, 国庆节, ...) or a day the campus closed on top of the national calendar."""
        return d in self.closed_days or (d not in self.open_days and d in self._holidays(d.year))

    def _day_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return []
        # Bounds in UTC so working time is real elapsed time, even on a DST change day in the calendar's zone.
        return [(datetime.combine(d, s, self.zone).astimezone(UTC),
                 (datetime.combine(d, e, self.zone) if e is not None
                  else datetime.combine(d + _ONE_DAY, time(0), self.zone)).astimezone(UTC))
                for s, e in self.periods]

    def _one_day(self) -> timedelta:
        return sum(((timedelta(days=1) if e is None else datetime.combine(date.min, e) - datetime.min)
                    - (datetime.combine(date.min, s) - datetime.min) for s, e in self.periods), timedelta())

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
