"""The sweep: overdue findings escalated once, reminders once, concurrent sweeps, failures, the index it reads."""
from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from click.testing import CliRunner

from engine import admin, audit, calendars, services, timers
from engine.models import AuditEntry, Finding, Notification
from web.cli import main

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)  # a Tuesday; `reported` is due 1 working day later, 4 working h reminder
DUE = datetime(2026, 3, 4, 9, 0, tzinfo=SH)
REMIND = datetime(2026, 3, 3, 14, 30, tzinfo=SH)  # 4 working hours before DUE: 08:00-09:00, then 14:30-17:30

LAPSE_YAML = """\
version: 1
workflows:
  permit:
    label: 许可
    initial: asked
    reporters: [inspector]
    roles:
      inspector: {label: 巡查员}
      system: {label: 系统}
    states:
      asked: {label: 待批, due: 1h, on_overdue: lapse}
      lapsed: {label: 失效, final: true}
    transitions:
      - {event: lapse, from: asked, to: lapsed, roles: [inspector]}
"""


def report(campus, now=T0, workflow="finding", **extra) -> int:
    fields = {"title": "一食堂地面湿滑", "category": "卫生", "location": "一食堂一楼", "unit": "FOOD", **extra}
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(workflow=workflow, **fields),
                                    now=now)
        uow.commit()
        return f.id


def finding(store, fid) -> Finding:
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        uow.session.expunge_all()  # keep what was read: leaving the unit of work expires attached objects
        return f


def rows(store, fid) -> list[AuditEntry]:
    with store.uow(write=False) as uow:
        found = list(uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == fid)
                                         .order_by(AuditEntry.seq)))
        uow.session.expunge_all()
        return found


def notifications(store, fid) -> list[Notification]:
    with store.uow(write=False) as uow:
        found = list(uow.session.scalars(sa.select(Notification).where(Notification.finding_id == fid)
                                         .order_by(Notification.id)))
        uow.session.expunge_all()
        return found


def assert_chain_ok(store):
    with store.uow(write=False) as uow:
        assert audit.verify(uow.session).ok


def test_due_and_reminder_follow_working_time(campus):
    f = finding(campus.store, report(campus))
    assert (f.due_at, f.remind_at, f.sweep_at) == (DUE, REMIND, REMIND)


def test_overdue_finding_is_escalated_by_one_sweep_and_not_by_a_second(campus):
    store, fid = campus.store, report(campus)
    early = timers.sweep(store, datetime(2026, 3, 3, 10, 0, tzinfo=SH))
    assert (early.fired, early.reminders) == (0, 0)
    late = datetime(2026, 3, 4, 10, 0, tzinfo=SH)
    first = timers.sweep(store, late)
    assert (first.fired, first.failed) == (1, [])
    f = finding(store, fid)
    assert (f.state, f.overdue_count) == ("escalated", 1)
    escalation = rows(store, fid)[-1]
    assert (escalation.event, escalation.actor, escalation.role) == ("escalate", "system", "system")
    assert escalation.payload == {"missed_due": DUE.astimezone(UTC).isoformat(), "rule": "overdue"}
    second = timers.sweep(store, late)
    assert (second.fired, second.reminders, second.overdue_notices, second.failed) == (0, 0, 0, [])
    assert len(rows(store, fid)) == 2 and finding(store, fid).overdue_count == 1
    # Missing the reminder window entirely gives only the overdue notice, in both languages.
    notes = notifications(store, fid)
    assert [n.kind for n in notes] == ["overdue"]
    assert f"#{fid}" in notes[0].message_zh and "督办" in notes[0].message_zh and "escalate" in notes[0].message_en
    assert_chain_ok(store)


def test_reminder_is_recorded_once_for_each_state_entry(campus):
    store, fid = campus.store, report(campus)
    at = datetime(2026, 3, 3, 15, 0, tzinfo=SH)
    assert timers.sweep(store, at).reminders == 1
    assert timers.sweep(store, at).reminders == 0
    assert timers.sweep(store, datetime(2026, 3, 3, 17, 0, tzinfo=SH)).reminders == 0
    note = notifications(store, fid)[0]
    assert (note.kind, note.unit_id, note.due_at, note.state) == ("reminder", finding(store, fid).unit_id, DUE,
                                                                  "reported")
    with store.uow(write=False) as uow:
        food = timers.list_notifications(uow, campus.actor("food"))
        prop = timers.list_notifications(uow, campus.actor("prop"))
        leader = timers.list_notifications(uow, campus.actor("leader"), unit="FOOD", since=T0)
        uow.session.expunge_all()
    assert [n.id for n in food] == [note.id] and prop == [] and [n.id for n in leader] == [note.id]
    # Entering the next state starts a new clock with its own reminder.
    with store.uow() as uow:
        services.advance(uow, fid, "assign", campus.actor("inspector"), {}, now=datetime(2026, 3, 3, 16, 0, tzinfo=SH))
        uow.commit()
    assert timers.sweep(store, datetime(2026, 3, 4, 17, 0, tzinfo=SH)).reminders == 1
    assert [n.kind for n in notifications(store, fid)] == ["reminder", "reminder"]


def test_state_without_on_overdue_is_noticed_once_and_left_alone(campus):
    store, fid = campus.store, report(campus)
    steps = [("assign", "inspector", {}), ("respond", "food", {"plan": "清理"}),
             ("rectify", "food", {"note": "已清理"})]
    for event, who, payload in steps:
        with store.uow() as uow:
            services.advance(uow, fid, event, campus.actor(who), payload, now=T0)
            uow.commit()
    late = datetime(2026, 3, 20, 9, 0, tzinfo=SH)  # `verifying` is due in 2 working days and has no on_overdue
    assert timers.sweep(store, late).overdue_notices == 1
    f = finding(store, fid)
    assert (f.state, f.overdue_count, f.sweep_at) == ("verifying", 0, None)
    again = timers.sweep(store, late)
    assert (again.fired, again.overdue_notices, again.reminders) == (0, 0, 0)
    assert [n.kind for n in notifications(store, fid)] == ["overdue"]


def test_two_concurrent_sweeps_fire_each_finding_once(campus):
    store = campus.store
    ids = [report(campus, title=f"问题{i}") for i in range(12)]
    late, barrier, reports = datetime(2026, 3, 5, 9, 0, tzinfo=SH), threading.Barrier(2), []

    def run():
        barrier.wait()
        reports.append(timers.sweep(store, late, batch=4))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fired for r in reports) == len(ids) and all(r.failed == [] for r in reports)
    for fid in ids:
        assert [r.event for r in rows(store, fid)] == ["report", "escalate"]
        assert len(notifications(store, fid)) == 1
    assert_chain_ok(store)


def test_one_failure_does_not_stop_the_sweep_and_is_retried(campus):
    store = campus.store
    with store.uow() as uow:
        admin.load_workflows(uow, LAPSE_YAML, by="test")
        uow.commit()
    broken = report(campus, workflow="permit")  # its on_overdue event is not the system's to fire
    fine = report(campus)
    late = datetime(2026, 3, 5, 9, 0, tzinfo=SH)
    first = timers.sweep(store, late)
    assert first.fired == 1 and [fid for fid, _ in first.failed] == [broken]
    assert "lapse" in first.failed[0][1]
    assert finding(store, fine).state == "escalated" and finding(store, broken).state == "asked"
    second = timers.sweep(store, late)
    assert second.fired == 0 and [fid for fid, _ in second.failed] == [broken]
    assert notifications(store, broken) == []  # its transaction was rolled back whole


def test_sweep_query_reads_the_sweep_at_index(campus):
    store = campus.store
    report(campus)
    with store.uow() as uow:
        unit_id = uow.session.scalar(sa.select(Finding.unit_id))
        # Many stored findings, few due: the planner must go through the index, not scan the table.
        uow.session.execute(sa.insert(Finding), [
            {"title": f"旧问题{i}", "category": "卫生", "location": "一食堂", "unit_id": unit_id,
             "source": "department", "workflow_name": "finding", "workflow_version": 1, "state": "closed",
             "created_at": T0, "updated_at": T0, "state_entered_at": T0, "sweep_at": None} for i in range(3000)])
        uow.commit()
    with store.uow() as uow:
        uow.session.execute(sa.text("ANALYZE findings" if store.dialect == "postgresql" else "ANALYZE"))
        uow.commit()
    with store.uow(write=False) as uow:
        plan = timers.sweep_plan(uow, datetime(2026, 3, 5, tzinfo=SH))
    assert "ix_findings_sweep_at" in plan, plan
    assert "Seq Scan" not in plan and "SCAN findings" not in plan, plan


def test_closed_days_push_due_times_back(campus, db_url, monkeypatch):
    from engine import unit_of_work
    from engine.unit_of_work import Store

    store, other = campus.store, Store(db_url)  # `other`: a second process on the same database
    try:
        assert other.calendar.is_working_day(datetime(2026, 3, 4).date())
        with store.uow() as uow:
            calendars.close_days(uow, campus.actor("admin"), "2026-03-04", "校庆")
            uow.commit()
        assert finding(store, report(campus)).due_at == datetime(2026, 3, 5, 9, 0, tzinfo=SH)
        assert other.calendar.is_working_day(datetime(2026, 3, 4).date())  # until its copy is old enough
        monkeypatch.setattr(unit_of_work, "CALENDAR_TTL", 0.0)
        assert not other.calendar.is_working_day(datetime(2026, 3, 4).date())
        with store.uow() as uow:
            calendars.remove_days(uow, campus.actor("admin"), "2026-03-04")
            uow.commit()
        assert finding(store, report(campus)).due_at == DUE
    finally:
        other.dispose()


def test_sweep_command_prints_its_summary(campus, db_url, monkeypatch):
    report(campus)
    monkeypatch.setenv("XUNCHA_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["sweep", "--now", "2026-03-04T10:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fired 1, failed 0, reminders 0, overdue notices 0"
    assert CliRunner().invoke(main, ["sweep", "--now", "2026-03-04T10:00"]).exit_code == 2  # no zone given


def test_sweep_forgets_idempotency_answers_older_than_a_day(campus):
    from datetime import timedelta

    from engine.models import IdempotencyRecord

    user_id = campus.actor("inspector").user_id
    with campus.store.uow() as uow:
        for key, age in (("old", timedelta(hours=25)), ("recent", timedelta(hours=23))):
            uow.session.add(IdempotencyRecord(user_id=user_id, key=key, method="POST", path="/api/v1/findings",
                                              request_hash="0" * 64, status=201, headers={}, body="{}",
                                              created_at=T0 - age))
        uow.commit()
    report = timers.sweep(campus.store, T0)
    assert report.expired_keys == 1
    with campus.store.uow(write=False) as uow:
        assert list(uow.session.scalars(sa.select(IdempotencyRecord.key))) == ["recent"]
