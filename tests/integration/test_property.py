"""Random event sequences, valid or not: the stored finding always equals the replay of its audit log."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from replay import assert_consistent, log_of

from engine import audit, services
from engine.actors import SYSTEM
from engine.errors import DomainError
from engine.models import AuditEntry, Finding
from workflows import load_file

WORKFLOW = load_file(Path(__file__).resolve().parents[2] / "workflows.yaml").workflows["finding"]
EVENTS = sorted({t.event for t in WORKFLOW.transitions}) + ["teleport"]  # plus one the workflow lacks
ACTORS = ["inspector", "leader", "admin", "auditor", "prop", "dorm", "food", "student", "system"]

# Payloads that satisfy each event's fields; drawn most of the time so sequences get deep into the workflow.
GOOD = {
    "assign": [{}, {"note": "请尽快处理"}],
    "dismiss": [{"reason": "重复上报"}],
    "respond": [{"plan": "更换灯管"}],
    "rectify": [{"note": "已更换"}],
    "verify": [{"verdict": "pass"}, {"verdict": "fail", "note": "仍未修好"}],
    "escalate": [{}, {"reason": "逾期"}],
    "sanction": [{"kind": "warning", "decision": "通报"}, {"kind": "deduction", "points": 5, "decision": "扣分"}],
    "refer": [{"reason": "需多部门协调"}],
    "resolve": [{"decision": "由物业牵头"}],
    "close": [{"decision": "协调销号"}],
    "reopen": [{"reason": "复发"}],
    "archive": [{}],
    "teleport": [{}],
}
# Payloads most transitions refuse: wrong choice, out of range, too long, wrong type, no such file, nothing.
BAD = [{}, {"verdict": "maybe"}, {"kind": "jail", "decision": "d"}, {"kind": "warning", "decision": "d", "points": 500},
       {"plan": ""}, {"note": 42}, {"note": "n", "photos": [999999]}, {"reason": "长" * 6000}, {"decision": None}]


def draw_step(data, state: str, actors: dict) -> tuple:
    """Mostly a move the workflow offers from `state` by someone holding a role for it, sometimes anything."""
    offered = WORKFLOW.outgoing(state)
    onward = [t for t in offered if not WORKFLOW.states[t.dest].final] or offered  # dead ends only now and then
    if offered and data.draw(st.booleans() | st.just(True), label="offered"):
        transition = data.draw(st.sampled_from(onward) | st.sampled_from(onward) | st.sampled_from(offered),
                               label="transition")
        event = transition.event
        who = data.draw(st.sampled_from([n for n in ACTORS if set(actors[n].roles) & set(transition.roles)]),
                        label="actor")
    else:
        event = data.draw(st.sampled_from(EVENTS), label="event")
        who = data.draw(st.sampled_from(ACTORS), label="actor")
    good = st.sampled_from(GOOD.get(event, [{}]))
    payload = data.draw(good | good | good | st.sampled_from(BAD), label="payload")
    version = data.draw(st.sampled_from([None, None, "current", "stale"]), label="expected_version")
    return event, who, payload, version


def snapshot(store, fid) -> tuple:
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        rows = uow.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.finding_id == fid))
        return (f.state, f.version, f.failed_verifications, f.reopenings, f.audit_seq, f.audit_head,
                f.due_at, rows)


# A building an example: each example's finding stands alone (repeat links add rows of their own).
BUILDINGS = itertools.count(1)

@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50, deadline=None,
          database=None)
@given(reporter=st.sampled_from(["inspector", "student"]), unit=st.sampled_from(["FOOD", "PROP-DORM"]),
       length=st.integers(0, 15) | st.integers(10, 15), data=st.data())
@pytest.mark.slow
def test_any_event_sequence_keeps_state_equal_to_the_replayed_log(campus, reporter, unit, length, data):
    store = campus.store
    actors = {**campus.actors, "system": SYSTEM}
    with store.uow() as uow:
        fid = services.report_finding(uow, actors[reporter], services.Report(
            title="宿舍楼道灯不亮", category="设施", location=f"{next(BUILDINGS)}号楼三层", unit=unit,
            source="public" if reporter == "student" else "department")).id
        uow.commit()
    for _ in range(length):
        before = snapshot(store, fid)
        event, who, payload, version = draw_step(data, before[0], actors)
        expected = {None: None, "current": before[1], "stale": before[1] - 1}[version]
        try:
            with store.uow() as uow:
                services.advance(uow, fid, event, actors[who], payload, expected_version=expected)
                uow.commit()
        except DomainError:
            assert snapshot(store, fid) == before, f"refused {event} by {who} changed the finding"
            continue
        after = snapshot(store, fid)
        assert (after[1], after[-1]) == (before[1] + 1, before[-1] + 1)
        with store.uow(write=False) as uow:
            row = log_of(uow.session, fid)[-1]
            assert (row.event, row.actor, row.from_state, row.payload) == (event, who, before[0], payload)
            assert row.to_state in {t.dest for t in WORKFLOW.outgoing(before[0], event)}
    final = snapshot(store, fid)
    # `--hypothesis-show-statistics` shows how far the sequences got.
    note_event(f"ended in {final[0]}")
    note_event(f"failed verifications {min(final[2], 2)}, reopenings {min(final[3], 2)}")
    with store.uow(write=False) as uow:
        assert assert_consistent(uow.session, fid) == snapshot(store, fid)[1]
        assert audit.verify(uow.session).ok
