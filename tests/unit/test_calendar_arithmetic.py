"""Named calendars: seven-day and round-the-clock arithmetic, open days, which calendar a due time is counted on."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine.calendar_book import CalendarBook
from engine.worktime import WorkCalendar, national_year
from workflows.calendars import parse_hours
from workflows.durations import Duration, parse_duration
from workflows.loader import load_text

SH = ZoneInfo("Asia/Shanghai")
CATERING = parse_hours("06:00-20:00")


def sh(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_a_seven_day_calendar_counts_the_weekend():
    office, catering = WorkCalendar(), WorkCalendar(periods=CATERING, days="all_but_holidays")
    friday_evening = sh(2026, 3, 6, 18, 0)
    two_days = parse_duration("2 working days")
    # 28 service hours: Friday 18-20, Saturday 06-20, Sunday 06-18.
    assert catering.add(friday_evening, two_days) == sh(2026, 3, 8, 18, 0)
    assert office.add(friday_evening, two_days) == sh(2026, 3, 10, 17, 30)  # Monday and Tuesday, office hours
    assert catering.subtract(sh(2026, 3, 8, 18, 0), parse_duration("1 working day")) == sh(2026, 3, 7, 18, 0)


def test_all_but_holidays_closes_on_statutory_holidays_and_works_make_up_days():
    catering = WorkCalendar(periods=CATERING, days="all_but_holidays")
    assert catering.is_working_day(date(2026, 3, 7))  # an ordinary Saturday
    assert not catering.is_working_day(date(2026, 2, 17))  # 春节
    assert not catering.is_working_day(date(2026, 10, 6))  # a weekday given off for National Day
    assert not catering.is_working_day(date(2026, 2, 21))  # a weekend inside the Spring Festival break (15-23 Feb)
    assert not catering.is_working_day(date(2026, 4, 4))  # the Saturday that opens the Qingming break (4-6 Apr)
    # From 19:00 on the make-up Saturday before the break: one hour that day, the next on 24 Feb after it.
    assert catering.add(sh(2026, 2, 14, 19, 0), Duration(2, "working_hours")) == sh(2026, 2, 24, 7, 0)


def test_round_the_clock_is_elapsed_time_and_ignores_every_calendar():
    always = WorkCalendar(periods=parse_hours("00:00-24:00"), closed_days=[date(2026, 10, 1)], days="all")
    assert always.is_working_day(date(2026, 10, 1)) is False  # an explicit closed day still wins
    plain = WorkCalendar(periods=parse_hours("00:00-24:00"), days="all")
    assert plain.is_working_day(date(2026, 10, 1)) and plain.is_working_day(date(2026, 3, 7))
    assert plain.add(sh(2026, 9, 30, 22, 30), Duration(2, "working_days")) == sh(2026, 10, 2, 22, 30)
    assert plain.add(sh(2026, 3, 6, 23, 0), Duration(24, "working_hours")) == sh(2026, 3, 7, 23, 0)
    assert plain.subtract(sh(2026, 3, 7, 0, 30), Duration(1, "working_hours")) == sh(2026, 3, 6, 23, 30)
    assert plain.working_seconds_between(sh(2026, 3, 6, 12), sh(2026, 3, 8, 12)) == 48 * 3600


def test_an_open_day_on_a_weekend_counts_with_the_calendars_hours():
    # 2027: the installed `holidays` knows no make-up working days yet; an administrator opens Saturday 20 Feb.
    friday_4pm, one_day = sh(2027, 2, 19, 16, 0), Duration(1, "working_days")
    assert WorkCalendar().add(friday_4pm, one_day) == sh(2027, 2, 22, 16, 0)  # 1.5 h Friday, 6 h Monday
    opened = WorkCalendar(open_days=[date(2027, 2, 20)])
    assert opened.is_working_day(date(2027, 2, 20))
    assert opened.add(friday_4pm, one_day) == sh(2027, 2, 20, 16, 0)  # 08:00-12:00, 14:00-16:00 on Saturday


@pytest.mark.parametrize("text, problem", [
    ("24:00-08:00", "bad working-hours part"),
    ("08:00-12:00,11:00-13:00", "overlaps"),
    ("00:00-24:00,08:00-09:00", "overlaps"),
    ("20:00-06:00", "ends before it starts"),
    ("8-12", "expected HH:MM-HH:MM"),
])
def test_bad_hours_name_the_part_at_fault(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_hours(text)


def test_hours_may_end_at_midnight():
    assert parse_hours("18:00-24:00") == ((time(18, 0), None),)
    assert WorkCalendar(periods=parse_hours("18:00-24:00"), days="all").add(
        sh(2026, 3, 6, 23, 0), Duration(2, "working_hours")) == sh(2026, 3, 7, 19, 0)


def test_durations_name_their_calendar():
    assert parse_duration("24 hours on catering") == Duration(24, "working_hours", "catering")
    assert parse_duration("3 working days on office") == Duration(3, "working_days", "office")
    assert str(parse_duration("2 days on round_the_clock")) == "2 working days on round_the_clock"
    assert parse_duration("72h").calendar is None and not parse_duration("72h").working
    with pytest.raises(ValueError, match="hours or days"):
        parse_duration("30 minutes on catering")


def test_the_package_knows_2026_officially_and_only_estimates_2027():
    y2026, y2027 = national_year(2026), national_year(2027)
    assert y2026.official and not y2027.official
    assert y2026.make_up_days == (date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                                  date(2026, 9, 20), date(2026, 10, 10))
    assert y2027.make_up_days == ()
    assert (date(2026, 2, 17), "春节") in y2026.days_off and any(d == date(2027, 2, 6) for d, _ in y2027.days_off)


YAML = """\
calendars:
  catering: {label: 餐饮, hours: "06:00-20:00", days: all_but_holidays}
  round_the_clock: {label: 全天候, hours: "00:00-24:00", days: all}
workflows:
  loop:
    label: 小闭环
    initial: open
    reporters: [clerk]
    roles: {clerk: {label: 职员}}
    states:
      open: {label: 待办, due: 2 working days, remind_before: 1 working day}
      urgent: {label: 急办, due: 4 hours on round_the_clock, remind_before: 1 working hour on office}
      checking: {label: 复查, due: 1 working day on office}
      done: {label: 完成, final: true}
    transitions:
      - {event: go, from: open, to: urgent, roles: [clerk]}
      - {event: check, from: urgent, to: checking, roles: [clerk]}
      - {event: finish, from: checking, to: done, roles: [clerk]}
"""


def test_the_due_names_its_calendar_else_the_units_default_else_office():
    wf = load_text(YAML).workflows["loop"]
    book = CalendarBook(WorkCalendar(), unit_calendars={7: "catering", 8: "gone_from_this_version"})
    name, on_due, on_remind = book.for_state(wf, wf.states["open"], 7)
    assert name == "catering" and on_due.days == "all_but_holidays" and on_remind is on_due
    assert book.for_state(wf, wf.states["open"], 1)[0] == "office"  # no default: office
    assert book.for_state(wf, wf.states["open"], 8)[0] == "office"  # a name this version lacks: office
    assert book.for_state(wf, wf.states["checking"], 7)[0] == "office"  # the state's own calendar wins
    name, on_due, on_remind = book.for_state(wf, wf.states["urgent"], 7)
    assert name == "round_the_clock" and on_due.days == "all" and on_remind is book.office


def test_a_book_carries_the_administrators_days_to_every_calendar_that_follows_the_nation():
    book = CalendarBook(WorkCalendar(), closed=[date(2026, 3, 9)], opened=[date(2027, 2, 20)])
    wf = load_text(YAML).workflows["loop"]
    catering = book.resolve(wf, "catering")[1]
    always = book.resolve(wf, "round_the_clock")[1]
    assert not book.office.is_working_day(date(2026, 3, 9)) and not catering.is_working_day(date(2026, 3, 9))
    assert book.office.is_working_day(date(2027, 2, 20))
    assert always.is_working_day(date(2026, 3, 9))
    assert book.resolve(wf, "catering")[1] is catering  # built once per book
