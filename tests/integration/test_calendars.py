"""Working calendars on both databases: open days, units on seven-day calendars, `calendar check`, history kept."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import admin, calendars, services, timers
from engine.errors import InvalidFields, NotAllowed, WorkflowRejected
from engine.models import Finding, Notification, WorkflowVersion
from engine.unit_of_work import Store
from web.cli import main

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_4PM_2027 = datetime(2027, 2, 19, 16, 0, tzinfo=SH)  # `reported` is due 1 working day (7.5 h) on office
MAKE_UP_SATURDAY = date(2027, 2, 20)


def report(campus, now, unit="FOOD") -> int:
    with campus.store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="二食堂后厨排水沟堵塞", category="卫生", location="二食堂后厨", unit=unit), now=now)
        uow.commit()
        return finding.id


def advance(campus, finding_id, event, who, now, **payload) -> None:
    with campus.store.uow() as uow:
        services.advance(uow, finding_id, event, campus.actor(who), payload, now=now)
        uow.commit()


def load(store, finding_id) -> SimpleNamespace:
    """The finding's clock as stored."""
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, finding_id)
        return SimpleNamespace(id=f.id, state=f.state, due_at=f.due_at, remind_at=f.remind_at, sweep_at=f.sweep_at,
                               due_calendar=f.due_calendar)


@pytest.fixture
def xuncha(db_url, tmp_path):
    env = {"XUNCHA_DATABASE_URL": db_url, "XUNCHA_INSTANCE": str(tmp_path / "instance")}
    return lambda *args: CliRunner().invoke(main, list(args), env=env)


def test_a_make_up_saturday_entered_by_an_administrator_counts_as_working_time(campus):
    before = load(campus.store, report(campus, FRIDAY_4PM_2027))
    assert before.due_at == datetime(2027, 2, 22, 16, 0, tzinfo=SH)  # the package knows no 2027 make-up days
    with campus.store.uow() as uow:
        calendars.open_days(uow, campus.actor("admin"), "2027-02-20", "春节调休上班")
        uow.commit()
    after = load(campus.store, report(campus, FRIDAY_4PM_2027))
    assert after.due_at == datetime(2027, 2, 20, 16, 0, tzinfo=SH)  # 1.5 h Friday, 08:00-12:00 and 14:00-16:00 Saturday
    assert after.remind_at == datetime(2027, 2, 20, 10, 0, tzinfo=SH)  # 4 working hours back, across the open day
    assert after.due_calendar == "office"
    assert load(campus.store, before.id).due_at == datetime(2027, 2, 22, 16, 0, tzinfo=SH)  # history stays


def test_a_unit_on_a_seven_day_calendar_has_deadlines_across_the_weekend(campus):
    with campus.store.uow() as uow:
        admin.set_unit_calendar(uow, "FOOD", "catering")
        uow.commit()
    friday_5pm, friday_6pm = (datetime(2026, 3, 6, h, 0, tzinfo=SH) for h in (17, 18))
    finding_id = report(campus, friday_5pm)
    reported = load(campus.store, finding_id)
    assert reported.due_calendar == "office"  # `reported` names office: the inspectors' own deadline
    assert reported.due_at == datetime(2026, 3, 9, 17, 0, tzinfo=SH)
    advance(campus, finding_id, "assign", "inspector", friday_6pm)
    assigned = load(campus.store, finding_id)
    # `assigned` is due in 2 working days on the unit's calendar: 28 service hours, Friday 18-20, Saturday, Sunday.
    assert assigned.due_calendar == "catering"
    assert assigned.due_at == datetime(2026, 3, 8, 18, 0, tzinfo=SH)
    assert assigned.remind_at == datetime(2026, 3, 7, 18, 0, tzinfo=SH)  # 1 service day back, on the same calendar
    other = report(campus, friday_5pm, unit="PROP")
    advance(campus, other, "assign", "inspector", friday_6pm)
    assert load(campus.store, other).due_at == datetime(2026, 3, 10, 17, 30, tzinfo=SH)  # office: Mon and Tue

    saturday = timers.sweep(campus.store, datetime(2026, 3, 7, 18, 30, tzinfo=SH))
    sunday = timers.sweep(campus.store, datetime(2026, 3, 8, 18, 1, tzinfo=SH))
    assert (saturday.reminders, saturday.fired, sunday.fired) == (1, 0, 1)
    assert load(campus.store, finding_id).state == "escalated"
    with campus.store.uow(write=False) as uow:
        notices = uow.session.scalars(sa.select(Notification.kind).where(Notification.finding_id == finding_id))
        assert sorted(notices) == ["overdue", "reminder"]


def test_unit_calendars_are_checked_against_the_workflows_file(campus, xuncha):
    with campus.store.uow() as uow, pytest.raises(InvalidFields, match="catering, office, round_the_clock"):
        admin.set_unit_calendar(uow, "FOOD", "canteen")
    result = xuncha("unit", "set", "FOOD", "--calendar", "nope")
    assert result.exit_code == 1 and "unknown calendar 'nope'" in result.output
    assert xuncha("unit", "create", "FOOD-C2", "--name", "第二食堂", "--parent", "FOOD",
                  "--calendar", "catering").exit_code == 0
    assert xuncha("unit", "set", "PROP-DORM", "--calendar", "round_the_clock").exit_code == 0
    with campus.store.uow(write=False) as uow:
        rows = dict(uow.session.execute(sa.text("SELECT code, calendar FROM units")).all())
    assert rows["FOOD-C2"] == "catering" and rows["PROP-DORM"] == "round_the_clock" and rows["FOOD"] is None


def test_calendar_check_says_2027_is_estimated_and_2026_official(campus, xuncha):
    assert xuncha("calendar", "open", "2027-02-20", "--note", "春节调休上班").exit_code == 0
    estimated = xuncha("calendar", "check", "2027")
    assert estimated.exit_code == 0, estimated.output
    lines = estimated.output.splitlines()
    assert lines[0].startswith("2027: estimated") and "xuncha calendar open" in lines[0]
    assert "2027-02-06\tholiday\t春节\tholidays " in estimated.output
    assert "2027-02-20\topen\t春节调休上班\t" in estimated.output
    official = xuncha("calendar", "check", "2026")
    assert official.output.startswith("2026: official")
    assert "2026-02-14\tworkday\t调休上班\tholidays " in official.output
    assert sum("\tworkday\t" in line for line in official.output.splitlines()) == 6
    assert xuncha("calendar", "check", "1900").exit_code == 1


def test_open_and_closed_days_are_listed_and_removed(campus, xuncha):
    assert xuncha("calendar", "add", "2027-01-18..2027-01-20", "--note", "寒假", "--by", "gad.admin").output \
        == "3 day(s) closed\n"
    assert xuncha("calendar", "open", "2027-02-20,2027-02-28", "--note", "调休上班").output == "2 day(s) opened\n"
    listed = xuncha("calendar", "list").output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["2027-01-18", "closed", "寒假"], ["2027-01-19", "closed", "寒假"], ["2027-01-20", "closed", "寒假"],
        ["2027-02-20", "open", "调休上班"], ["2027-02-28", "open", "调休上班"]]
    assert listed[0].endswith("\tgad.admin")

    clash = xuncha("calendar", "add", "2027-02-27..2027-02-28")  # 28 Feb is open: the whole command refused
    assert clash.exit_code == 1 and "2027-02-28 is an open day already" in clash.output
    assert xuncha("calendar", "remove", "2027-02-20", "2027-01-19..2027-01-20").output == "3 day(s) removed\n"
    assert [line.split("\t")[:2] for line in xuncha("calendar", "list").output.splitlines()] == [
        ["2027-01-18", "closed"], ["2027-02-28", "open"]]
    missing = xuncha("calendar", "remove", "2027-02-28", "2027-03-01")
    assert missing.exit_code == 1 and "2027-03-01" in missing.output
    bad = xuncha("calendar", "open", "2027-02-30")
    assert bad.exit_code == 1 and "2027-02-30" in bad.output
    with campus.store.uow() as uow, pytest.raises(NotAllowed):
        calendars.open_days(uow, campus.actor("inspector"), "2027-03-06")
    with campus.store.uow(write=False) as uow:
        assert [(r.day, r.kind) for r in calendars.list_days(uow)] == [
            (date(2027, 1, 18), "closed"), (date(2027, 2, 28), "open")]


def test_another_process_sees_a_new_open_day_within_the_ttl(campus, db_url, monkeypatch):
    from engine import unit_of_work

    other = Store(db_url)  # a second process on the same database
    try:
        assert not other.calendar.is_working_day(MAKE_UP_SATURDAY)
        with campus.store.uow() as uow:
            calendars.open_days(uow, campus.actor("admin"), [MAKE_UP_SATURDAY], "调休上班")
            uow.commit()
        assert campus.store.calendar.is_working_day(MAKE_UP_SATURDAY)  # the process that made it: at once
        assert not other.calendar.is_working_day(MAKE_UP_SATURDAY)  # the other: when its copy is old enough
        monkeypatch.setattr(unit_of_work, "CALENDAR_TTL", 0.0)
        assert other.calendar.is_working_day(MAKE_UP_SATURDAY)
    finally:
        other.dispose()


def test_changing_days_or_a_units_calendar_moves_no_due_time_already_set(campus):
    friday = datetime(2026, 3, 6, 18, 0, tzinfo=SH)
    finding_id = report(campus, datetime(2026, 3, 6, 17, 0, tzinfo=SH))
    advance(campus, finding_id, "assign", "inspector", friday)
    kept = load(campus.store, finding_id)
    with campus.store.uow() as uow:
        calendars.open_days(uow, campus.actor("admin"), "2026-03-07..2026-03-08", "校庆调休")
        calendars.close_days(uow, campus.actor("admin"), "2026-03-09", "校运会")
        admin.set_unit_calendar(uow, "FOOD", "round_the_clock")
        uow.commit()
    now = load(campus.store, finding_id)
    assert kept.due_at == datetime(2026, 3, 10, 17, 30, tzinfo=SH) and kept.due_calendar == "office"
    assert (now.due_at, now.remind_at, now.sweep_at, now.due_calendar) == \
        (kept.due_at, kept.remind_at, kept.sweep_at, kept.due_calendar)
    later = report(campus, datetime(2026, 3, 6, 17, 0, tzinfo=SH))
    advance(campus, later, "assign", "inspector", friday)
    assert load(campus.store, later).due_at == datetime(2026, 3, 8, 18, 0, tzinfo=SH)  # 48 h round the clock


def test_a_workflow_naming_an_unknown_calendar_is_refused_with_its_line(store):
    from shipped_workflows import WORKFLOWS_YAML

    text = WORKFLOWS_YAML.read_text(encoding="utf-8").replace("due: 5 working days", "due: 5 working days on canteen")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "on canteen" in row)
    with store.uow() as uow, pytest.raises(WorkflowRejected) as caught:
        admin.load_workflows(uow, text, file="workflows.yaml", by="test")
    assert [(p.line, p.severity) for p in caught.value.problems] == [(line, "error")]
    assert str(caught.value.problems[0]).startswith(f"workflows.yaml:{line}: error: ")
    assert "unknown calendar 'canteen'" in caught.value.problems[0].message
    with store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(WorkflowVersion)) == 1
