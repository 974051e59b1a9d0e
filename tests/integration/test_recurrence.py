"""Recurrence classes: 屡查屡犯, 屡改屡犯 and 查而不改 each fire their configured event, audited by rule name."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine import admin, audit, queries, recurrence, services
from engine.models import AuditEntry, Finding, FindingLink
from workflows.lint import lint_text

WORKFLOWS_YAML = Path(__file__).resolve().parents[2] / "workflows.yaml"
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
ACTING_RULES = """\
    rules:
      repeat_found: {window: 30 days, same: building, threshold: 2, event: escalate,
                     exclude_states: [dismissed]}
      repeat_failed: {threshold: 2, event: escalate}
      not_fixed: {reported_again_while_open: true, event: escalate}
"""


def with_rules(rules: str) -> str:
    text = WORKFLOWS_YAML.read_text(encoding="utf-8")
    return text[:text.index("\n    # Recurrence classes")] + "\n" + rules


@pytest.fixture
def loop(campus):
    """The campus with the shipped workflow reloaded (as v2) with every recurrence rule acting."""
    with campus.store.uow() as uow:
        admin.load_workflows(uow, with_rules(ACTING_RULES), by="test")
        uow.commit()
    return campus


def report(campus, location="学生公寓9号楼 3层", category="卫生", now=T0, who="inspector", unit="PROP-DORM",
           **extra) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor(who), services.Report(
            title="楼道垃圾未清", category=category, location=location, unit=unit, **extra), now=now)
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload=None, now=T0):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload or {}, now=now)
        uow.commit()


def state(campus, fid) -> tuple:
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        return f.state, f.repeat_of_id, f.repeat_count


def rule_rows(campus, fid) -> list[tuple]:
    with campus.store.uow(write=False) as uow:
        return [(r.event, r.actor, r.payload.get("rule")) for r in uow.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.finding_id == fid, AuditEntry.actor == "system",
                                        AuditEntry.event != recurrence.LINKED_EVENT)
            .order_by(AuditEntry.seq))]


def linked_rows(campus, fid) -> list[list[int]]:
    """The log's record of which earlier findings a finding was linked to when it was accepted."""
    with campus.store.uow(write=False) as uow:
        return [r.payload["repeats"] for r in uow.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.finding_id == fid, AuditEntry.event == recurrence.LINKED_EVENT))]


def assert_chain_ok(campus):
    with campus.store.uow(write=False) as uow:
        report_ = audit.verify(uow.session)
    assert report_.ok, report_


def accept(campus, fid, now=T0, who="inspector"):
    """The inspector accepts a report into the loop (assigns it): when the recurrence rules run."""
    fire(campus, fid, "assign", who, now=now)


def reported_and_accepted(campus, location="学生公寓9号楼 3层", now=T0, **extra) -> int:
    fid = report(campus, location, now=now, **extra)
    accept(campus, fid, now=now + timedelta(minutes=30))
    return fid


def test_found_again_in_the_same_building_links_and_escalates_at_the_threshold(loop):
    first = report(loop, "学生公寓9号楼3层")
    fire(loop, first, "dismiss", "inspector", {"reason": "重复"})  # dismissed reports are no precedent
    second = reported_and_accepted(loop, "学生公寓9号楼5层", now=T0 + timedelta(days=1))
    elsewhere = reported_and_accepted(loop, "学生公寓10号楼3层", now=T0 + timedelta(days=1))
    other_kind = reported_and_accepted(loop, "学生公寓9号楼", category="消防", now=T0 + timedelta(days=1))
    assert state(loop, second) == ("assigned", None, 0)
    assert state(loop, elsewhere)[2] == 0 and state(loop, other_kind)[2] == 0
    third = reported_and_accepted(loop, "学生公寓９号楼　东侧卫生间", now=T0 + timedelta(days=2))
    assert state(loop, third) == ("assigned", second, 1)  # one earlier finding: below the threshold of 2
    fourth = reported_and_accepted(loop, "学生公寓9号楼1层", now=T0 + timedelta(days=3))
    assert state(loop, fourth) == ("escalated", third, 2)
    assert rule_rows(loop, fourth) == [("escalate", "system", "repeat_found")]
    assert linked_rows(loop, fourth) == [[third, second]]  # the log says what the links set, so verify replays it
    # Each repeat also found the earlier ones still open: 查而不改 escalated them, once each.
    assert rule_rows(loop, second) == rule_rows(loop, third) == [("escalate", "system", "not_fixed")]
    with loop.store.uow(write=False) as uow:
        inspector = loop.actor("inspector")
        assert recurrence.links(uow, fourth, inspector) == {"repeats": [third, second], "repeated_by": []}
        assert recurrence.links(uow, second, inspector)["repeated_by"] == [third, fourth]
    assert_chain_ok(loop)


def test_a_report_alone_sets_no_rule_off_the_rules_run_when_it_is_accepted(loop):
    open_one = reported_and_accepted(loop)
    again = report(loop, now=T0 + timedelta(hours=2), who="student", source="public")
    assert state(loop, open_one)[0] == "assigned" and state(loop, again) == ("reported", None, 0)
    accept(loop, again, now=T0 + timedelta(hours=3))
    assert state(loop, open_one)[0] == "escalated"
    assert state(loop, again) == ("assigned", open_one, 1)  # one earlier finding: below the 屡查屡犯 threshold
    with loop.store.uow(write=False) as uow:
        link = uow.session.scalars(sa.select(FindingLink)).one()
        assert (link.finding_id, link.earlier_id, link.earlier_open) == (again, open_one, True)
        row = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == open_one,
                                                              AuditEntry.actor == "system")).one()
        assert row.payload == {"rule": "not_fixed", "triggered_by": again}
    assert_chain_ok(loop)


def test_a_report_at_the_same_canteen_does_not_touch_another_units_finding(loop):
    kitchen = reported_and_accepted(loop, "一食堂 后厨", unit="FOOD")
    door = report(loop, "一食堂 门口", now=T0 + timedelta(hours=1), who="student", source="public")
    assert state(loop, kitchen)[0] == "assigned"  # a public report changes nothing by itself
    accept(loop, door, now=T0 + timedelta(hours=2))
    assert state(loop, kitchen)[0] == "assigned" and rule_rows(loop, kitchen) == []  # PROP-DORM's is not FOOD's
    assert state(loop, door) == ("assigned", None, 0)
    # The same unit's report at the same canteen is a case of 查而不改 once accepted, and the student who
    # reported it does not learn the other finding's id.
    same_unit = report(loop, "第一食堂门口", now=T0 + timedelta(hours=3), who="student", source="public",
                       unit="FOOD")
    kitchen2 = reported_and_accepted(loop, "第一食堂后厨", unit="FOOD", now=T0 + timedelta(hours=4))
    accept(loop, same_unit, now=T0 + timedelta(hours=5))
    assert state(loop, kitchen2)[0] == "escalated"
    with loop.store.uow(write=False) as uow:
        student, inspector = loop.actor("student"), loop.actor("inspector")
        assert queries.get_finding(uow, same_unit, inspector).repeat_of == kitchen2
        assert queries.get_finding(uow, same_unit, student).repeat_of is None
        assert recurrence.links(uow, same_unit, student) == {"repeats": [], "repeated_by": []}
        assert recurrence.links(uow, same_unit, inspector)["repeats"] == [kitchen2]


def test_the_units_scope_of_a_rule_is_configurable(campus):
    rules = ACTING_RULES.replace("exclude_states: [dismissed]}", "exclude_states: [dismissed], same_unit: false}")
    rules = rules.replace("not_fixed: {reported_again_while_open: true, event: escalate}",
                          "not_fixed: {reported_again_while_open: true, event: escalate, same_unit: false}")
    with campus.store.uow() as uow:
        admin.load_workflows(uow, with_rules(rules), by="test")
        uow.commit()
    kitchen = reported_and_accepted(campus, "一食堂 后厨", unit="FOOD")
    door = reported_and_accepted(campus, "一食堂 门口", now=T0 + timedelta(hours=1))
    assert state(campus, door) == ("assigned", kitchen, 1) and state(campus, kitchen)[0] == "escalated"


def test_rules_fire_on_the_configured_event(campus):
    rules = ACTING_RULES.replace("not_fixed: {reported_again_while_open: true, event: escalate}",
                                 "not_fixed: {reported_again_while_open: true, event: escalate, when: [escalate]}")
    with campus.store.uow() as uow:
        admin.load_workflows(uow, with_rules(rules), by="test")
        uow.commit()
    first = reported_and_accepted(campus)
    second = reported_and_accepted(campus, now=T0 + timedelta(hours=1))
    assert state(campus, first)[0] == "assigned"  # assign is not not_fixed's event here
    third = report(campus, now=T0 + timedelta(hours=2))
    fire(campus, third, "escalate", "inspector", {"reason": "多次发现"}, now=T0 + timedelta(hours=3))
    assert state(campus, first)[0] == state(campus, second)[0] == "escalated"


def test_reported_again_after_closing_is_no_case_of_not_fixed(loop):
    closed = report(loop)
    for event, who, payload in [("assign", "inspector", {}), ("respond", "dorm", {"plan": "清理"}),
                                ("rectify", "dorm", {"note": "已清理"}), ("verify", "inspector", {"verdict": "pass"})]:
        fire(loop, closed, event, who, payload)
    reported_and_accepted(loop, now=T0 + timedelta(days=1))
    assert state(loop, closed)[0] == "closed" and rule_rows(loop, closed) == []
    with loop.store.uow(write=False) as uow:
        assert uow.session.scalars(sa.select(FindingLink.earlier_open)).one() is False


def test_failed_twice_escalates(loop):
    fid = report(loop)
    for event, who, payload in [("assign", "inspector", {}), ("respond", "dorm", {"plan": "清理"}),
                                ("rectify", "dorm", {"note": "已清理"}), ("verify", "inspector", {"verdict": "fail"})]:
        fire(loop, fid, event, who, payload)
    assert state(loop, fid)[0] == "rectifying" and rule_rows(loop, fid) == []
    fire(loop, fid, "rectify", "dorm", {"note": "再次清理"})
    fire(loop, fid, "verify", "inspector", {"verdict": "fail"})
    assert state(loop, fid)[0] == "escalated"
    assert rule_rows(loop, fid) == [("escalate", "system", "repeat_failed")]
    assert_chain_ok(loop)


def test_failed_then_reopened_escalates(loop):
    fid = report(loop)
    steps = [("assign", "inspector", {}), ("respond", "dorm", {"plan": "清理"}), ("rectify", "dorm", {"note": "a"}),
             ("verify", "inspector", {"verdict": "fail"}), ("rectify", "dorm", {"note": "b"}),
             ("verify", "inspector", {"verdict": "pass"}), ("reopen", "inspector", {"reason": "又脏了"})]
    for event, who, payload in steps:
        fire(loop, fid, event, who, payload)
    with loop.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        assert (f.state, f.failed_verifications, f.reopenings) == ("escalated", 1, 1)
    assert rule_rows(loop, fid) == [("escalate", "system", "repeat_failed")]
    assert_chain_ok(loop)


def test_shipped_rules_escalate_the_third_finding_in_the_same_building(campus):
    with campus.store.uow() as uow:  # the campus fixture's workflow has the rules quiet; load them as shipped
        admin.load_workflows(uow, WORKFLOWS_YAML.read_text(encoding="utf-8"), by="test")
        uow.commit()
    first = reported_and_accepted(campus)
    second = reported_and_accepted(campus, now=T0 + timedelta(hours=1))
    third = reported_and_accepted(campus, location="学生公寓9号楼5层", now=T0 + timedelta(hours=2))
    assert state(campus, third)[0] == "escalated"
    assert rule_rows(campus, third) == [("escalate", "system", "repeat_found")]
    # 查而不改: the earlier ones were still open when reported again, so they were escalated too
    assert ("escalate", "system", "not_fixed") in rule_rows(campus, first)
    assert state(campus, second)[0] == "escalated"
    assert_chain_ok(campus)


@pytest.mark.parametrize(("rules", "line_key", "message"), [
    ("repeat_found: {threshold: 2}", "repeat_found", "threshold and event go together"),
    ("repeat_found: {window: soon}", "repeat_found", "not a duration"),
    ("repeat_found: {same: room}", "repeat_found", "Must be one of: location, place, floor, building, area"),
    ("repeat_failed: {threshold: 0, event: escalate}", "repeat_failed", "greater than or equal to 1"),
    ("repeat_failed: {threshold: 2, event: assign}", "repeat_failed", "the role 'system' may fire"),
    ("not_fixed: {event: vanish}", "not_fixed", "'vanish' is not an event"),
    ("repeat_found: {exclude_states: [gone]}", "repeat_found", "'gone' is not a state"),
    ("repeat_found: {when: [respond]}", "repeat_found", "no event leaving the initial state"),
    ("not_fixed: {when: [dismiss], event: escalate, same_unit: maybe}", "not_fixed", "Not a valid boolean"),
    ("repeat_found: {building: ['(unclosed']}", "repeat_found", "not a regular expression"),
    ("repeat_found: {colour: red}", "repeat_found", "colour: Unknown field"),
    ("scorecard: {weights: {on_time: -1}}", "scorecard", "greater than or equal to 0"),
    ("commendation: {roles: [nobody]}", "commendation", "'nobody' is not a role"),
])
def test_bad_rules_are_refused_naming_key_and_line(rules, line_key, message):
    text = with_rules(f"    rules:\n      {rules}\n")
    problems = [p for p in lint_text(text, "w.yaml") if p.severity == "error"]
    assert problems, rules
    expected_line = text.splitlines().index(f"      {rules}") + 1
    assert any(message in p.message and p.line == expected_line and line_key in p.message for p in problems), \
        [str(p) for p in problems]
