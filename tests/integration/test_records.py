"""Sanctions (from the `sanction` event or one decision on several findings) and commendations."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image

from engine import audit, records, services
from engine.errors import InvalidEvent, InvalidFields, MissingFields, NotAllowed, NotFound
from engine.models import AuditEntry, Commendation, Sanction, SanctionFinding

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)


def report(campus, unit="FOOD") -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="后厨排水沟堵塞", category="卫生", location=f"{unit}后厨", unit=unit), now=T0)
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload=None):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload or {}, now=T0)
        uow.commit()


def escalated(campus, unit="FOOD") -> int:
    """A finding reported and escalated (督办): the state the shipped workflow sanctions from."""
    fid = report(campus, unit)
    fire(campus, fid, "escalate", "inspector", {"reason": "多次督促未整改"})
    return fid


def count(campus, model) -> int:
    with campus.store.uow(write=False) as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_sanction_event_records_a_sanction_tied_to_its_audit_row(campus):
    fid = report(campus)
    fire(campus, fid, "escalate", "inspector", {"reason": "逾期"})
    fire(campus, fid, "sanction", "leader", {"kind": "deduction", "points": 5, "amount": 200.5,
                                             "contract": "HT-2026-007", "decision": "扣5分并罚款"})
    with campus.store.uow(write=False) as uow:
        sanction = uow.session.scalars(sa.select(Sanction)).one()
        link = uow.session.scalars(sa.select(SanctionFinding)).one()
        row = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == fid,
                                                              AuditEntry.seq == link.audit_seq)).one()
        assert (sanction.kind, sanction.points, sanction.amount, sanction.contract, sanction.decided_by) == \
               ("deduction", 5.0, 200.5, "HT-2026-007", "leader")
        assert sanction.decided_at == T0 and sanction.unit_id == campus.actor("food").unit_id
        assert (link.finding_id, row.event, row.actor) == (fid, "sanction", "leader")
        assert audit.verify(uow.session).ok


def test_refused_sanction_event_records_nothing(campus):
    fid = report(campus)
    fire(campus, fid, "escalate", "inspector")
    with pytest.raises(NotAllowed):
        fire(campus, fid, "sanction", "inspector", {"kind": "warning", "decision": "警告"})
    with pytest.raises(InvalidFields) as caught:
        fire(campus, fid, "sanction", "leader", {"kind": "fine", "decision": "?"})
    assert "kind" in caught.value.fields
    assert count(campus, Sanction) == 0


def test_one_decision_covers_several_findings_of_a_unit(campus):
    a, b = escalated(campus), escalated(campus)
    decision = records.SanctionDecision(kind="contract_penalty", finding_ids=(a, b), decision="合同罚则",
                                        points=3, amount=1000, contract="HT-9")
    with campus.store.uow() as uow:
        sanction = records.record_sanction(uow, campus.actor("admin"), decision, now=T0)
        uow.commit()
        sid = sanction.id
    with campus.store.uow(write=False) as uow:
        listed = records.list_sanctions(uow, campus.actor("leader"), unit="FOOD", kind="contract_penalty",
                                        finding_id=b)
        rows = records.sanction_rows(uow, listed)
        assert [s.id for s in listed] == [sid] and sorted(link.finding_id for link in listed[0].findings) == [a, b]
        assert rows[0][:3] == ["id", "unit", "kind"] and rows[1][1:4] == ["FOOD", "contract_penalty", 3.0]
        assert rows[1][6] == f"{a} {b}"
        assert records.list_sanctions(uow, campus.actor("prop")) == []  # another centre sees none of FOOD's
        assert records.list_sanctions(uow, campus.actor("leader"), kind="warning") == []
        # the decision is the `sanction` event on each finding (it moves them as the workflow says), and one
        # Sanction covering both: its points are deducted once
        assert count(campus, Sanction) == 1
        for fid in (a, b):
            last = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == fid)
                                       .order_by(AuditEntry.seq.desc())).first()
            assert (last.event, last.from_state, last.to_state, last.actor) == (
                "sanction", "escalated", "rectifying", "admin")
            assert last.payload["contract"] == "HT-9"
            assert {link.finding_id: link.audit_seq for link in listed[0].findings}[fid] == last.seq
        assert audit.verify(uow.session).ok


@pytest.mark.parametrize(("who", "ids", "kind", "error", "field"), [
    ("admin", "mixed", "warning", InvalidFields, "findings"),
    ("admin", "none", "warning", MissingFields, "findings"),
    ("admin", "one", "fine", InvalidFields, "kind"),
    ("food", "one", "warning", NotAllowed, None),
])
def test_bad_sanction_decisions_are_refused_and_store_nothing(campus, who, ids, kind, error, field):
    food, prop = escalated(campus), escalated(campus, unit="PROP")
    finding_ids = {"mixed": (food, prop), "none": (), "one": (food,)}[ids]
    with campus.store.uow() as uow, pytest.raises(error) as caught:
        records.record_sanction(uow, campus.actor(who), records.SanctionDecision(
            kind=kind, finding_ids=finding_ids, decision="决定"))
    if field:
        assert field in caught.value.fields
    assert count(campus, Sanction) == 0


def test_sanction_on_a_finding_not_escalated_is_refused_by_the_workflow(campus):
    fid = report(campus)
    with campus.store.uow() as uow, pytest.raises(InvalidEvent) as caught:
        records.record_sanction(uow, campus.actor("admin"), records.SanctionDecision(
            kind="warning", finding_ids=(fid,), decision="?"))
    assert caught.value.state == "reported" and "escalate" in caught.value.allowed
    assert count(campus, Sanction) == 0


def test_sanction_on_missing_finding_is_not_found(campus):
    with campus.store.uow() as uow, pytest.raises(NotFound):
        records.record_sanction(uow, campus.actor("admin"), records.SanctionDecision(
            kind="warning", finding_ids=(424242,), decision="?"))


def test_commendations_are_recorded_and_listed_by_unit(campus):
    with campus.store.uow() as uow:
        good = records.record_commendation(uow, campus.actor("inspector"), records.CommendationInput(
            unit="FOOD", location="二食堂后厨", text="生熟分开、标识清晰", points=2), now=T0)
        records.record_commendation(uow, campus.actor("leader"), records.CommendationInput(
            unit="PROP", location="9号楼", text="楼道整洁", points=1), now=T0)
        uow.commit()
        good_id = good.id
    with campus.store.uow(write=False) as uow:
        mine = records.list_commendations(uow, campus.actor("food"))
        assert [(c.id, c.points, c.recorded_by) for c in mine] == [(good_id, 2.0, "inspector")]
        assert len(records.list_commendations(uow, campus.actor("leader"))) == 2
        assert records.list_commendations(uow, campus.actor("student")) == []


@pytest.mark.parametrize(("who", "item", "error", "field"), [
    ("student", {}, NotAllowed, None),
    ("food", {}, NotAllowed, None),
    ("inspector", {"text": " "}, MissingFields, "text"),
    ("inspector", {"points": -1}, InvalidFields, "points"),
    ("inspector", {"unit": "NOPE"}, InvalidFields, "unit"),
    ("inspector", {"attachment_ids": (99,)}, InvalidFields, "attachment_ids"),
])
def test_bad_commendations_are_refused(campus, who, item, error, field):
    values = {"unit": "FOOD", "location": "一食堂", "text": "好", "points": 1, **item}
    with campus.store.uow() as uow, pytest.raises(error) as caught:
        records.record_commendation(uow, campus.actor(who), records.CommendationInput(**values))
    if field:
        assert field in caught.value.fields
    assert count(campus, Commendation) == 0


def test_commendations_refuse_photos_of_findings_the_caller_cannot_see(campus):
    import io

    from shipped_workflows import QUIET_WORKFLOWS

    from engine import admin, attachments

    # A deployment that lets service centres commend too (good practice seen in their own units).
    roles = "      commendation:\n        roles:\n        - inspector\n        - leader\n        - admin\n"
    assert QUIET_WORKFLOWS.count(roles) == 1
    centres_commend = QUIET_WORKFLOWS.replace(roles, roles + "        - centre\n")
    with campus.store.uow() as uow:
        admin.load_workflows(uow, centres_commend, by="test")
        uow.commit()
    food_finding = report(campus)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    png = buffer.getvalue()
    with campus.store.uow() as uow:
        photo = attachments.add_attachment(uow, food_finding, campus.actor("food"), name="明厨亮灶.png",
                                           content_type="image/png", stream=io.BytesIO(png)).id
        uow.commit()
    item = records.CommendationInput(unit="PROP", location="物业服务大厅", text="服务热情", attachment_ids=(photo,))
    with campus.store.uow() as uow, pytest.raises(InvalidFields) as caught:
        records.record_commendation(uow, campus.actor("prop"), item)  # PROP cannot see FOOD's finding
    assert f"no attachment(s) [{photo}]" in caught.value.fields["attachment_ids"]
    with campus.store.uow() as uow:
        records.record_commendation(uow, campus.actor("inspector"), item)
        uow.commit()
    assert count(campus, Commendation) == 1


def test_one_decision_moves_each_finding_as_the_sanction_event_does_and_deducts_once(campus):
    a, b = escalated(campus), escalated(campus)
    decision = records.SanctionDecision(kind="deduction", finding_ids=(a, b), decision="扣2分", points=2)
    with campus.store.uow() as uow:
        records.record_sanction(uow, campus.actor("leader"), decision, now=T0)
        uow.commit()
    with campus.store.uow() as uow, pytest.raises(InvalidEvent):  # a repeated decision: they left escalated
        records.record_sanction(uow, campus.actor("leader"), decision, now=T0)
    with campus.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.sum(Sanction.points))) == 2
        states = {fid: services.load_finding(uow, fid, campus.actor("leader")).state for fid in (a, b)}
        assert states == {a: "rectifying", b: "rectifying"}
