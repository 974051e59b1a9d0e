"""整改期限: the assigning inspector sets a rectification deadline that replaces the rectifying state's due time."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from engine import services, timers
from engine.errors import InvalidFields
from engine.models import Finding
from workflows.lint import lint_text

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)  # a Tuesday


def report(campus) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="后厨排水沟堵塞", category="卫生", location="一食堂后厨", unit="FOOD"), now=T0)
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload=None, now=T0):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload or {}, now=now)
        uow.commit()


def finding(campus, fid) -> SimpleNamespace:
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        return SimpleNamespace(state=f.state, due_at=f.due_at, deadline_at=f.deadline_at, version=f.version)


def test_the_deadline_set_on_assignment_replaces_the_rectifying_due_time(campus):
    fid = report(campus)
    fire(campus, fid, "assign", "inspector", {"deadline": "2026-03-05"})
    fire(campus, fid, "respond", "food", {"plan": "疏通"}, now=T0 + timedelta(hours=1))
    f = finding(campus, fid)
    assert f.state == "rectifying" and f.due_at == f.deadline_at == datetime(2026, 3, 5, 17, 30, tzinfo=SH)
    other = report(campus)  # without one, the rule's 5 working days
    fire(campus, other, "assign", "inspector")
    fire(campus, other, "respond", "food", {"plan": "疏通"}, now=T0 + timedelta(hours=1))
    assert finding(campus, other).due_at == datetime(2026, 3, 10, 10, 0, tzinfo=SH)
    # past the deadline the sweep escalates it (查而不改), although the rule's due is still days away
    assert timers.sweep(campus.store, datetime(2026, 3, 6, 9, 0, tzinfo=SH)).fired == 1
    assert (finding(campus, fid).state, finding(campus, other).state) == ("escalated", "rectifying")


@pytest.mark.parametrize(("day", "message"), [
    ("2026-03-31", "later than the rule allows (5 working days, until 2026-03-10 09:00); a later deadline "
                   "needs one of: leader, admin"),
    ("2026-03-07", "2026-03-07 is not a working day on campus"),
    ("2026-03-02", "2026-03-02 is over already"),
])
def test_an_inspector_cannot_set_a_deadline_the_rule_does_not_allow(campus, day, message):
    fid = report(campus)
    with pytest.raises(InvalidFields) as caught:
        fire(campus, fid, "assign", "inspector", {"deadline": day})
    assert message in caught.value.fields["deadline"]
    f = finding(campus, fid)
    assert (f.state, f.deadline_at, f.version) == ("reported", None, 1)


def test_an_administrator_may_set_a_later_deadline(campus):
    fid = report(campus)
    fire(campus, fid, "assign", "admin", {"deadline": "2026-03-31"})
    fire(campus, fid, "respond", "food", {"plan": "更换管道"})
    assert finding(campus, fid).due_at == datetime(2026, 3, 31, 17, 30, tzinfo=SH)


def test_bad_deadline_rules_are_refused_naming_the_line():
    from shipped_workflows import WORKFLOWS_YAML

    text = WORKFLOWS_YAML.read_text(encoding="utf-8")
    line = "      deadline: {field: deadline, states: [rectifying], later_by: [leader, admin]}"
    assert line in text
    bad = text.replace(line, "      deadline: {field: due_day, states: [fixing, closed], later_by: [dean]}")
    problems = [p for p in lint_text(bad, "w.yaml") if p.severity == "error"]
    at = bad.splitlines().index("      deadline: {field: due_day, states: [fixing, closed], later_by: [dean]}") + 1
    messages = {p.message.split("rules.")[1] for p in problems if p.line == at}
    assert messages == {"deadline.states: 'fixing' is not a state of this workflow",
                        "deadline.states: state 'closed' has no due time for a deadline to replace",
                        "deadline.later_by: 'dean' is not a role of this workflow",
                        "deadline.field: no transition declares a date field 'due_day' to set it with"}

