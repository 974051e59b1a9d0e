"""Reporting and advancing findings through the service layer: every refusal says why and changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from engine import admin, audit, messagebus, records, services
from engine.errors import (
    GuardRefused,
    InvalidEvent,
    InvalidFields,
    MissingFields,
    NotAllowed,
    NotFound,
    VersionConflict,
)
from engine.events import FindingAdvanced
from engine.models import AuditEntry, Finding

PERMIT_YAML = """\
version: 1
workflows:
  permit:
    label: {zh: 费用审批, en: Expense approval}
    initial: asked
    reporters: [inspector, centre]
    roles:
      inspector: {label: 巡查员}
      centre: {label: 服务中心, scope: unit}
      leader: {label: 部门领导}
    states:
      asked: {label: 待批, due: 1d}
      granted: {label: 已批准, final: true}
    transitions:
      - event: grant
        from: asked
        to: granted
        roles: [inspector, leader]
        guard: payload.amount <= 1000 || actor.role == "leader"
        reason: {zh: 超过一千元须由部门领导审批, en: Over 1000 CNY needs a department leader}
        fields:
          amount: {type: number, min: 0}
"""

TO_VERIFYING = [("assign", "inspector", {}), ("respond", "food", {"plan": "立即清理"}),
                ("rectify", "food", {"note": "已清理"})]


def report(campus, unit="FOOD", who="inspector", workflow="finding", **extra) -> int:
    fields = {"title": "一食堂地面湿滑", "category": "卫生", "location": "一食堂一楼", **extra}
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor(who), services.Report(unit=unit, workflow=workflow, **fields))
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload=None, **kw) -> Finding:
    with campus.store.uow() as uow:
        f = services.advance(uow, fid, event, campus.actor(who), payload or {}, **kw)
        uow.commit()
        return f


def walk(campus, fid, steps):
    for event, who, payload in steps:
        fire(campus, fid, event, who, payload)


def snapshot(store, fid) -> dict:
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        rows = uow.session.execute(sa.select(AuditEntry.seq, AuditEntry.event, AuditEntry.hash)
                                   .where(AuditEntry.finding_id == fid).order_by(AuditEntry.seq)).all()
        return {"state": f.state, "version": f.version, "audit_seq": f.audit_seq, "audit_head": f.audit_head,
                "due_at": f.due_at, "updated_at": f.updated_at, "failed": f.failed_verifications,
                "reopenings": f.reopenings, "rows": [tuple(r) for r in rows]}


@pytest.fixture
def permit(campus):
    with campus.store.uow() as uow:
        admin.load_workflows(uow, PERMIT_YAML, file="permit.yaml", by="test")
        uow.commit()
    return campus


# --- reporting -------------------------------------------------------------------------------------------------

def test_report_starts_in_the_initial_state_with_one_audit_row(campus):
    fid = report(campus)
    snap = snapshot(campus.store, fid)
    assert snap["state"] == "reported" and snap["version"] == 1
    assert [r[:2] for r in snap["rows"]] == [(1, "report")]
    assert snap["due_at"] is not None


def test_chinese_text_round_trips_unchanged(campus):
    title, location = "宿舍楼3号楼热水器漏电⚡（紧急）", "北区·学生公寓３号楼"
    fid = report(campus, unit="PROP", title=title, location=location, description="见附图；“请尽快”处理")
    fire(campus, fid, "assign", "inspector", {"note": "请物业中心于今日内处理"}, comment="备注：已电话通知")
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert (f.title, f.location, f.description) == (title, location, "见附图；“请尽快”处理")
        row = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == fid,
                                                              AuditEntry.seq == 2)).one()
        assert row.payload == {"note": "请物业中心于今日内处理"} and row.comment == "备注：已电话通知"
        assert audit.verify(uow.session).ok


def test_report_for_unknown_unit(campus):
    with pytest.raises(InvalidFields) as caught:
        report(campus, unit="NOPE")
    assert "NOPE" in caught.value.fields["unit"]


def test_report_missing_text(campus):
    with pytest.raises(MissingFields) as caught:
        report(campus, title="  ", location="")
    assert type(caught.value) is MissingFields
    assert caught.value.fields == {"title": "required", "location": "required"}


def test_report_invalid_severity(campus):
    with pytest.raises(InvalidFields) as caught:
        report(campus, severity="apocalyptic")
    assert "severity" in caught.value.fields


@pytest.mark.parametrize("who, unit", [("auditor", "FOOD"), ("food", "PROP"), ("dorm", "PROP")])
def test_report_needs_a_reporting_role_within_reach(campus, who, unit):
    with pytest.raises(NotAllowed):
        report(campus, unit=unit, who=who)
    with campus.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0


def test_centre_reports_for_its_own_and_lower_units(campus):
    assert snapshot(campus.store, report(campus, unit="PROP-DORM", who="prop"))["state"] == "reported"
    assert snapshot(campus.store, report(campus, unit="PROP-DORM", who="dorm"))["state"] == "reported"


# --- every refusal, with its details -----------------------------------------------------------------------------

def test_invalid_event_names_state_and_possible_events(campus):
    fid = report(campus)
    with pytest.raises(InvalidEvent) as caught:
        fire(campus, fid, "verify", "inspector", {"verdict": "pass"})
    err = caught.value
    assert err.state == "reported" and err.event == "verify"
    assert err.allowed == ["assign", "dismiss", "escalate"]
    assert "'reported'" in str(err) and "assign" in str(err)


def test_unknown_event_is_an_invalid_event(campus):
    fid = report(campus)
    with pytest.raises(InvalidEvent) as caught:
        fire(campus, fid, "to_closed", "admin")
    assert caught.value.state == "reported"


def test_not_allowed_names_the_roles_needed(campus):
    fid = report(campus)
    with pytest.raises(NotAllowed) as caught:
        fire(campus, fid, "assign", "food")
    assert set(caught.value.roles_needed) == {"inspector", "admin"}
    assert "food" in str(caught.value) and "'assign'" in str(caught.value)


def test_auditor_sees_but_cannot_move(campus):
    fid = report(campus)
    with pytest.raises(NotAllowed):
        fire(campus, fid, "assign", "auditor")


def test_missing_fields_lists_them(campus):
    fid = report(campus)
    fire(campus, fid, "assign", "inspector")
    with pytest.raises(MissingFields) as caught:
        fire(campus, fid, "respond", "food", {})
    assert type(caught.value) is MissingFields
    assert caught.value.fields == {"plan": "required"}


@pytest.mark.parametrize("payload, field, words", [
    ({"plan": 42}, "plan", "text"),
    ({"plan": "x" * 5001}, "plan", "5000"),
    ({"plan": "整改", "budget": 5}, "budget", "plan"),
])
def test_invalid_fields_for_wrong_types_and_unknown_fields(campus, payload, field, words):
    fid = report(campus)
    fire(campus, fid, "assign", "inspector")
    with pytest.raises(InvalidFields) as caught:
        fire(campus, fid, "respond", "food", payload)
    assert list(caught.value.fields) == [field]
    assert words in caught.value.fields[field]


def test_invalid_number_and_choice_on_sanction(campus):
    fid = report(campus)
    fire(campus, fid, "escalate", "leader")
    with pytest.raises(InvalidFields) as caught:
        fire(campus, fid, "sanction", "leader", {"kind": "fine", "points": 150, "decision": "扣分"})
    assert set(caught.value.fields) == {"kind", "points"}
    fire(campus, fid, "sanction", "leader", {"kind": "deduction", "points": 5, "decision": "扣五分"})
    assert snapshot(campus.store, fid)["state"] == "rectifying"


def test_guard_refused_carries_the_workflows_reason(permit):
    fid = report(permit, workflow="permit")
    with pytest.raises(GuardRefused) as caught:
        fire(permit, fid, "grant", "inspector", {"amount": 5000})
    err = caught.value
    assert err.reason == "超过一千元须由部门领导审批"
    assert err.reason_en == "Over 1000 CNY needs a department leader"
    assert "payload.amount" in err.guard
    fire(permit, fid, "grant", "leader", {"amount": 5000})  # the same rule lets a leader through
    assert snapshot(permit.store, fid)["state"] == "granted"


def test_guard_passes_within_the_limit(permit):
    fid = report(permit, workflow="permit")
    fire(permit, fid, "grant", "inspector", {"amount": 300})
    assert snapshot(permit.store, fid)["state"] == "granted"


def test_version_conflict_gives_expected_and_actual(campus):
    fid = report(campus)
    fire(campus, fid, "assign", "inspector", expected_version=1)
    with pytest.raises(VersionConflict) as caught:
        fire(campus, fid, "escalate", "inspector", expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)


def test_missing_finding_is_not_found(campus):
    with pytest.raises(NotFound) as caught:
        fire(campus, 999_999, "assign", "inspector")
    assert caught.value.key == 999_999


def test_centre_sees_its_unit_and_units_below_only(campus):
    dorm_finding, prop_finding = report(campus, unit="PROP-DORM"), report(campus, unit="PROP")
    for fid in (dorm_finding, prop_finding):
        fire(campus, fid, "assign", "inspector")
    with pytest.raises(NotFound):
        fire(campus, prop_finding, "respond", "dorm", {"plan": "越权"})
    with pytest.raises(NotFound):
        fire(campus, dorm_finding, "respond", "food", {"plan": "越权"})
    fire(campus, dorm_finding, "respond", "prop", {"plan": "物业中心统筹整改"})
    fire(campus, prop_finding, "respond", "prop", {"plan": "自行整改"})
    assert snapshot(campus.store, dorm_finding)["state"] == "rectifying"
    assert snapshot(campus.store, prop_finding)["state"] == "rectifying"


# --- all or nothing ----------------------------------------------------------------------------------------------

REFUSALS = [
    ("verify", "inspector", {"verdict": "pass"}, {}, InvalidEvent),
    ("rectify", "inspector", {"note": "x"}, {}, NotAllowed),
    ("rectify", "dorm", {"note": "x"}, {}, NotFound),
    ("rectify", "food", {}, {}, MissingFields),
    ("rectify", "food", {"note": "x", "extra": 1}, {}, InvalidFields),
    ("rectify", "food", {"note": "x"}, {"expected_version": 1}, VersionConflict),
]


@pytest.mark.parametrize("event, who, payload, kw, error", REFUSALS, ids=[r[4].__name__ for r in REFUSALS])
def test_refused_advance_changes_nothing(campus, event, who, payload, kw, error):
    fid = report(campus)
    walk(campus, fid, TO_VERIFYING[:2])
    before = snapshot(campus.store, fid)
    with pytest.raises(error):
        fire(campus, fid, event, who, payload, **kw)
    assert snapshot(campus.store, fid) == before


def test_guard_refusal_changes_nothing(permit):
    fid = report(permit, workflow="permit")
    before = snapshot(permit.store, fid)
    with pytest.raises(GuardRefused):
        fire(permit, fid, "grant", "inspector", {"amount": 1000.5})
    assert snapshot(permit.store, fid) == before


@pytest.mark.parametrize("where", ["audit.append", "a handler"])
def test_failure_after_the_state_change_leaves_nothing_written(campus, monkeypatch, where):
    """A failure while writing the audit row, or in a handler after the finding's row was already updated,
    undoes it all."""
    fid = report(campus)
    before = snapshot(campus.store, fid)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    if where == "audit.append":
        monkeypatch.setattr(audit, "append", broken)
    else:  # handlers are reached through the message bus's table, not the module attribute
        handlers = messagebus.handlers_for(FindingAdvanced)
        monkeypatch.setitem(messagebus._handlers, FindingAdvanced,
                            [broken if h is records.on_advance else h for h in handlers])
    with campus.store.uow() as uow:
        with pytest.raises(RuntimeError, match="disk full"):
            services.advance(uow, fid, "assign", campus.actor("inspector"), {})
        if where == "a handler":  # the UPDATE and the audit INSERT did run inside the transaction
            assert uow.session.scalar(sa.select(Finding.state).where(Finding.id == fid)) == "assigned"
    monkeypatch.undo()
    assert snapshot(campus.store, fid) == before
    fire(campus, fid, "assign", "inspector")  # and the finding still works afterwards
    assert snapshot(campus.store, fid)["state"] == "assigned"


def test_leaving_without_commit_writes_nothing(campus):
    fid = report(campus)
    before = snapshot(campus.store, fid)
    with campus.store.uow() as uow:
        services.advance(uow, fid, "assign", campus.actor("inspector"), {})
    assert snapshot(campus.store, fid) == before


# --- counters, clocks --------------------------------------------------------------------------------------------

def test_failed_verifications_and_reopenings_are_counted(campus):
    fid = report(campus)
    walk(campus, fid, TO_VERIFYING)
    fire(campus, fid, "verify", "inspector", {"verdict": "fail", "note": "仍有积水"})
    snap = snapshot(campus.store, fid)
    assert (snap["state"], snap["failed"], snap["reopenings"]) == ("rectifying", 1, 0)
    fire(campus, fid, "rectify", "food", {"note": "再次清理"})
    fire(campus, fid, "verify", "inspector", {"verdict": "fail"})
    fire(campus, fid, "rectify", "food", {"note": "更换防滑垫"})
    fire(campus, fid, "verify", "inspector", {"verdict": "pass"})
    snap = snapshot(campus.store, fid)
    assert (snap["state"], snap["failed"], snap["reopenings"]) == ("closed", 2, 0)
    fire(campus, fid, "reopen", "inspector", {"reason": "复发"})
    snap = snapshot(campus.store, fid)
    assert (snap["state"], snap["failed"], snap["reopenings"]) == ("rectifying", 2, 1)
    assert snap["version"] == len(snap["rows"]) == 10


def test_due_time_follows_the_state(campus):
    t0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # a Monday morning in Beijing
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="路灯不亮", category="照明", location="东门", unit="ENERGY"), now=t0)
        uow.commit()
        fid = f.id
        wf = uow.registry.get(uow.session, "finding", 1)
        expected = {s: uow.calendar.add(t0, wf.states[s].due) for s in ("reported", "assigned")}
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert f.due_at == expected["reported"] and f.due_at > t0
        assert f.remind_at is not None and t0 < f.remind_at < f.due_at
    with campus.store.uow() as uow:
        services.advance(uow, fid, "assign", campus.actor("inspector"), {}, now=t0)
        uow.commit()
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert f.due_at == expected["assigned"] and f.due_at > expected["reported"]
        assert f.state_entered_at == t0 and f.closed_at is None
    with campus.store.uow() as uow:
        services.advance(uow, fid, "refer", campus.actor("inspector"), {"reason": "需多部门协调"}, now=t0)
        services.advance(uow, fid, "close", campus.actor("leader"), {"decision": "已协调完成"}, now=t0)
        uow.commit()
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert f.state == "closed" and f.due_at is None and f.remind_at is None and f.closed_at == t0


def test_audit_rows_record_who_what_and_role(campus):
    fid = report(campus)
    walk(campus, fid, TO_VERIFYING)
    with campus.store.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == fid)
                                   .order_by(AuditEntry.seq)).all()
        recorded = [(r.event, r.from_state, r.to_state, r.actor, r.role, r.payload) for r in rows]
    assert [r[:5] for r in recorded] == [
        ("report", None, "reported", "inspector", "inspector"),
        ("assign", "reported", "assigned", "inspector", "inspector"),
        ("respond", "assigned", "rectifying", "food", "centre"),
        ("rectify", "rectifying", "verifying", "food", "centre"),
    ]
    assert recorded[2][5] == {"plan": "立即清理"}


def test_possible_events_depend_on_role(campus):
    fid = report(campus)
    fire(campus, fid, "assign", "inspector")
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        centre = [t.event for t in services.possible_events(uow, f, campus.actor("food"))]
        leader = [t.event for t in services.possible_events(uow, f, campus.actor("leader"))]
    assert centre == ["respond", "rectify", "refer"]
    assert leader == ["escalate"]
