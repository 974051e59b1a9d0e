"""Working-time arithmetic: expected dates come from the State Council's 2026 holiday notice, not from the code."""
from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.worktime import DEFAULT_PERIODS, WorkCalendar
from workflows.durations import Duration, parse_duration

SH = ZoneInfo("Asia/Shanghai")
WH = "working_hours"
WD = "working_days"


def sh(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def dur(amount, unit):
    return Duration(float(amount), unit)


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar()


# --- the 2026 calendar (国务院办公厅 2026 年部分节假日安排) -----------------------------------------------

@pytest.mark.parametrize("day", [
    date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3),                        # 元旦 1-3 Jan
    date(2026, 2, 15), date(2026, 2, 16), date(2026, 2, 20), date(2026, 2, 23),  # 春节 15-23 Feb
    date(2026, 4, 6),                                                            # 清明 4-6 Apr (Mon)
    date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5),                        # 劳动节 1-5 May
    date(2026, 6, 19),                                                           # 端午 19-21 Jun (Fri)
    date(2026, 9, 25),                                                           # 中秋 25-27 Sep (Fri)
    date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7),  # 国庆 1-7 Oct
    date(2026, 3, 7), date(2026, 3, 8),                                          # an ordinary weekend
])
def test_days_off_2026(cal, day):
    assert not cal.is_working_day(day)


@pytest.mark.parametrize("day", [
    date(2026, 1, 4),    # Sunday, make-up day for New Year
    date(2026, 2, 14),   # Saturday, make-up day for Spring Festival
    date(2026, 2, 28),   # Saturday, make-up day for Spring Festival
    date(2026, 5, 9),    # Saturday, make-up day for Labour Day
    date(2026, 9, 20),   # Sunday, make-up day for National Day
    date(2026, 10, 10),  # Saturday, make-up day for National Day
    date(2026, 2, 24), date(2026, 10, 8), date(2026, 3, 4),  # ordinary weekdays, incl. the first after a break
])
def test_working_days_2026(cal, day):
    assert cal.is_working_day(day)


def test_is_working_day_rejects_datetime(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(sh(2026, 3, 4, 10))


# --- working hours -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, hours, expected", [
    (sh(2026, 3, 3, 17, 0), 2, sh(2026, 3, 4, 9, 30)),    # across the end of a day (Tue -> Wed)
    (sh(2026, 3, 3, 11, 0), 2, sh(2026, 3, 3, 15, 0)),    # lunch break skipped
    (sh(2026, 3, 3, 8, 0), 4, sh(2026, 3, 3, 12, 0)),     # uses the morning exactly: due at its end
    (sh(2026, 3, 3, 12, 30), 1, sh(2026, 3, 3, 15, 0)),   # start during lunch: counting begins 14:00
    (sh(2026, 3, 3, 6, 0), 1, sh(2026, 3, 3, 9, 0)),      # start before work
    (sh(2026, 3, 3, 20, 0), 1, sh(2026, 3, 4, 9, 0)),     # start in the evening
    (sh(2026, 3, 7, 10, 0), 1, sh(2026, 3, 9, 9, 0)),     # start on a Saturday -> Monday
    (sh(2026, 3, 6, 17, 0), 2, sh(2026, 3, 9, 9, 30)),    # Friday evening over a normal weekend
    (sh(2026, 10, 9, 17, 0), 2, sh(2026, 10, 10, 9, 30)),  # Friday -> make-up Saturday 10 Oct counts
    (sh(2026, 2, 27, 16, 0), 2, sh(2026, 2, 28, 8, 30)),  # Friday -> make-up Saturday 28 Feb counts
    (sh(2026, 10, 1, 9, 0), 2, sh(2026, 10, 8, 10, 0)),   # start on National Day -> first day back
    (sh(2026, 9, 30, 16, 0), 3, sh(2026, 10, 8, 9, 30)),  # 1.5h before the break, 1.5h after it
])
def test_add_working_hours(cal, start, hours, expected):
    assert cal.add(start, dur(hours, WH)) == expected


def test_result_is_utc_and_start_may_be_in_any_zone(cal):
    start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    due = cal.add(start, dur(2, WH))
    assert due.tzinfo is UTC
    assert due == datetime(2026, 3, 4, 1, 30, tzinfo=UTC)  # Wed 09:30 Shanghai
    london = start.astimezone(ZoneInfo("Europe/London"))
    assert cal.add(london, dur(2, WH)) == due


# --- working days --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, days, expected", [
    (sh(2026, 3, 6, 10, 0), 1, sh(2026, 3, 9, 10, 0)),     # Friday over a normal weekend -> Monday
    (sh(2026, 3, 3, 10, 0), 3, sh(2026, 3, 6, 10, 0)),     # Tue + 3 -> Fri
    (sh(2026, 9, 30, 16, 0), 1, sh(2026, 10, 8, 16, 0)),   # over the National Day week
    (sh(2026, 9, 18, 10, 0), 1, sh(2026, 9, 20, 10, 0)),   # Friday -> make-up Sunday 20 Sep
    (sh(2026, 9, 24, 10, 0), 2, sh(2026, 9, 29, 10, 0)),   # Mid-Autumn Fri + weekend skipped
    (sh(2026, 2, 13, 10, 0), 1, sh(2026, 2, 14, 10, 0)),   # Friday -> make-up Saturday 14 Feb
    (sh(2026, 2, 13, 10, 0), 2, sh(2026, 2, 24, 10, 0)),   # ... then the Spring Festival break
    (sh(2026, 2, 13, 10, 0), 3, sh(2026, 2, 25, 10, 0)),
    (sh(2025, 12, 31, 16, 0), 1, sh(2026, 1, 4, 16, 0)),   # over New Year into make-up Sunday 4 Jan
    (sh(2026, 3, 3, 8, 0), 0.5, sh(2026, 3, 3, 11, 45)),   # half of a 7.5h day
    (sh(2026, 3, 3, 10, 0), 0.5, sh(2026, 3, 3, 15, 45)),  # half a day across lunch
    (sh(2026, 3, 3, 8, 0), 1, sh(2026, 3, 3, 17, 30)),     # a full day from opening ends at closing
])
def test_add_working_days(cal, start, days, expected):
    assert cal.add(start, dur(days, WD)) == expected


def test_parsed_chinese_duration(cal):
    assert cal.add(sh(2026, 9, 29, 9, 0), parse_duration("3个工作日")) == sh(2026, 10, 9, 9, 0)


# --- administrator closed and open days ---------------------------------------------------------------------

def test_closed_vacation_week_is_skipped():
    week = [date(2026, 7, 13) + timedelta(days=i) for i in range(5)]  # Mon 13 - Fri 17 July
    plain, closed = WorkCalendar(), WorkCalendar(closed_days=week)
    start = sh(2026, 7, 10, 10, 0)
    assert plain.add(start, dur(1, WD)) == sh(2026, 7, 13, 10, 0)
    assert closed.add(start, dur(1, WD)) == sh(2026, 7, 20, 10, 0)
    assert not closed.is_working_day(date(2026, 7, 15))
    assert closed.working_seconds_between(sh(2026, 7, 13), sh(2026, 7, 18)) == 0


def test_open_days_count_even_on_weekends_and_holidays():
    cal = WorkCalendar(open_days=[date(2026, 7, 11), date(2026, 10, 1)])
    assert cal.add(sh(2026, 7, 10, 10, 0), dur(1, WD)) == sh(2026, 7, 11, 10, 0)
    assert cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 10, 2))


def test_day_both_closed_and_open_is_rejected():
    with pytest.raises(ValueError, match="2026-07-13"):
        WorkCalendar(closed_days=[date(2026, 7, 13)], open_days=[date(2026, 7, 13)])


# --- plain elapsed time ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("72h", sh(2026, 10, 3, 16, 0)),
    ("2d", sh(2026, 10, 2, 16, 0)),
    ("90m", sh(2026, 9, 30, 17, 30)),
])
def test_plain_durations_ignore_the_calendar(cal, text, expected):
    due = cal.add(sh(2026, 9, 30, 16, 0), parse_duration(text))
    assert due == expected and due.tzinfo is UTC
    assert cal.subtract(due, parse_duration(text)) == sh(2026, 9, 30, 16, 0)


# --- subtract -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("end, duration, expected", [
    (sh(2026, 3, 9, 8, 30), dur(2, WH), sh(2026, 3, 6, 16, 0)),    # Monday morning back into Friday
    (sh(2026, 10, 8, 10, 0), dur(3, WH), sh(2026, 9, 30, 16, 30)),  # back over National Day
    (sh(2026, 3, 3, 15, 0), dur(2, WH), sh(2026, 3, 3, 11, 0)),    # back over lunch
    (sh(2026, 3, 3, 20, 0), dur(1, WH), sh(2026, 3, 3, 16, 30)),   # end after hours: from 17:30
    (sh(2026, 10, 12, 9, 0), dur(1, WD), sh(2026, 10, 10, 9, 0)),  # back into make-up Saturday
])
def test_subtract(cal, end, duration, expected):
    assert cal.subtract(end, duration) == expected


@pytest.mark.parametrize("start, duration", [
    (sh(2026, 3, 3, 17, 0), dur(2, WH)),
    (sh(2026, 9, 30, 16, 0), dur(1, WD)),
    (sh(2026, 2, 13, 10, 0), dur(3, WD)),
    (sh(2026, 10, 9, 11, 15), dur(7.25, WH)),
    (sh(2026, 3, 3, 10, 0), dur(0.5, WD)),
    (sh(2025, 12, 31, 9, 5), dur(12, WD)),
])
def test_subtract_inverts_add(cal, start, duration):
    due = cal.add(start, duration)
    assert due > start
    assert cal.subtract(due, duration) == start


# --- working_seconds_between ----------------------------------------------------------------------------------

def test_working_seconds_between(cal):
    assert cal.working_seconds_between(sh(2026, 3, 3, 10), sh(2026, 3, 4, 10)) == 7.5 * 3600
    assert cal.working_seconds_between(sh(2026, 3, 3, 11), sh(2026, 3, 3, 15)) == 2 * 3600
    assert cal.working_seconds_between(sh(2026, 9, 30, 16), sh(2026, 10, 8, 16)) == 7.5 * 3600
    assert cal.working_seconds_between(sh(2026, 10, 1), sh(2026, 10, 8)) == 0
    assert cal.working_seconds_between(sh(2026, 3, 4, 10), sh(2026, 3, 3, 10)) == 0
    assert cal.working_seconds_between(sh(2026, 3, 4, 10), sh(2026, 3, 4, 10)) == 0
    assert cal.working_seconds_between(  # a Tuesday, Wednesday and Thursday from any zone
        datetime(2026, 3, 2, 16, 0, tzinfo=UTC), sh(2026, 3, 6)) == 3 * 7.5 * 3600


def test_large_amounts_are_consistent_and_quick(cal):
    start = sh(2026, 3, 3, 10, 0)
    began = clock.perf_counter()
    due = cal.add(start, dur(1000, WD))
    assert clock.perf_counter() - began < 2
    assert due.astimezone(SH).time() == time(10, 0)
    assert cal.working_seconds_between(start, due) == 1000 * 7.5 * 3600
    assert cal.subtract(due, dur(1000, WD)) == start


# --- validation -----------------------------------------------------------------------------------------------

def test_naive_datetimes_are_rejected(cal):
    naive = datetime(2026, 3, 3, 10, 0)
    with pytest.raises(ValueError, match="naive"):
        cal.add(naive, dur(1, WH))
    with pytest.raises(ValueError, match="naive"):
        cal.subtract(naive, dur(1, WH))
    with pytest.raises(ValueError, match="naive"):
        cal.working_seconds_between(naive, sh(2026, 3, 4))


def test_unknown_unit_and_negative_amount_are_rejected(cal):
    with pytest.raises(ValueError, match="fortnights"):
        cal.add(sh(2026, 3, 3, 10), Duration(1.0, "fortnights"))
    with pytest.raises(ValueError, match="negative"):
        cal.add(sh(2026, 3, 3, 10), Duration(-1.0, WH))


def test_from_settings_defaults_and_custom_hours():
    assert WorkCalendar.from_settings().periods == DEFAULT_PERIODS
    cal = WorkCalendar.from_settings("09:00-12:00, 13:30-18:00", tz="UTC", closed_days="2026-03-04")
    assert cal.periods == ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
    start = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    # 1h on Tuesday, Wednesday closed, then 09:00-10:00 Thursday
    assert cal.add(start, dur(2, WH)) == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("hours, bad_part", [
    ("08:00-12:00,14:00-1730", "14:00-1730"),
    ("08:00-12:00,25:00-26:00", "25:00-26:00"),
    ("8-12", "8-12"),
    ("08:00-12:00,", "''"),
    ("12:00-08:00", "12:00-08:00"),
    ("08:00-12:00,11:00-13:00", "11:00-13:00"),
])
def test_from_settings_names_the_bad_part(hours, bad_part):
    with pytest.raises(ValueError, match=bad_part):
        WorkCalendar.from_settings(hours)


def test_from_settings_rejects_unknown_zone_and_bad_dates():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkCalendar.from_settings(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="2026-13-01"):
        WorkCalendar.from_settings(closed_days=["2026-13-01"])
