"""Domain events: `advance` and `report_finding` hand what they did to subscribed handlers in the same transaction."""
from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from engine import messagebus, services, timers
from engine.events import FindingAdvanced, FindingReported
from engine.models import AuditEntry, Finding


@pytest.fixture
def seen():
    """A handler subscribed for the test to both events, unsubscribed afterwards."""
    events: list = []

    def record(uow, event):
        events.append(event)

    for kind in (FindingReported, FindingAdvanced):
        messagebus.subscribe(kind, record)
    yield events
    for kind in (FindingReported, FindingAdvanced):
        messagebus._handlers[kind].remove(record)


def _report(campus) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="二食堂窗口无健康证公示", category="证照", location="二食堂 3号窗口", unit="FOOD"))
        uow.commit()
        return f.id


def test_report_and_advance_publish_what_they_did(campus, seen):
    fid = _report(campus)
    with campus.store.uow() as uow:
        services.advance(uow, fid, "assign", campus.actor("inspector"))
        uow.commit()
    reported, advanced = seen
    assert isinstance(reported, FindingReported) and reported.finding.id == fid
    assert isinstance(advanced, FindingAdvanced)
    assert (advanced.transition.event, advanced.from_state, advanced.finding.state) == ("assign", "reported",
                                                                                       "assigned")
    assert advanced.role == "inspector" and advanced.rule is None


def test_a_failing_handler_rolls_the_whole_change_back(campus):
    fid = _report(campus)

    def refuse(uow, event):
        raise RuntimeError("handler failed")

    messagebus.subscribe(FindingAdvanced, refuse)
    try:
        with campus.store.uow() as uow, pytest.raises(RuntimeError):
            services.advance(uow, fid, "assign", campus.actor("inspector"))
            uow.commit()
    finally:
        messagebus._handlers[FindingAdvanced].remove(refuse)
    with campus.store.uow(write=False) as uow:
        assert uow.session.get(Finding, fid).state == "reported"
        rows = uow.session.scalars(sa.select(AuditEntry.event).where(AuditEntry.finding_id == fid)).all()
        assert rows == ["report"]


def test_the_sweeps_escalation_names_its_rule(campus, seen):
    fid = _report(campus)
    with campus.store.uow(write=False) as uow:
        due = uow.session.get(Finding, fid).due_at
    timers.sweep(campus.store, now=due.replace(year=due.year + 1))
    escalations = [e for e in seen if isinstance(e, FindingAdvanced)]
    assert [(e.transition.event, e.rule, e.payload.get("rule")) for e in escalations] == [
        ("escalate", "overdue", "overdue")]


def test_handlers_are_wired_whichever_engine_module_is_imported_first():
    code = ("import engine.services as s; from engine import messagebus, events; "
            "print(sorted(h.__module__ for h in messagebus.handlers_for(events.FindingAdvanced)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['engine.notify.rules', 'engine.records', 'engine.recurrence', 'engine.recurrence']"
