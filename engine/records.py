"""Sanctions (追责问责) and commendations (树立正面典型): recording, listing and exporting them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine import audit, messagebus, policy, services
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, InvalidInput, MissingFields, NotAllowed, NotFound
from engine.events import CommendationRecorded, FindingAdvanced, SanctionRecorded
from engine.models import (
    Attachment,
    Commendation,
    Finding,
    Sanction,
    SanctionFinding,
    Unit,
)
from engine.unit_of_work import UnitOfWork
from workflows.rules import DEFAULT_COMMENDERS

SANCTION_EVENT = "sanction"  # the workflow event whose firing is a sanction decision
DEFAULT_WORKFLOW = "finding"
MAX_COMMENDATION_POINTS = 100


@dataclass(frozen=True)
class SanctionDecision:
    """One decision covering one or more findings of the same unit; fields as the `sanction` event declares."""

    kind: str
    finding_ids: tuple[int, ...]
    decision: str
    points: float | None = None
    amount: float | None = None
    contract: str | None = None

    def payload(self) -> dict:
        values = {"kind": self.kind, "decision": self.decision, "points": self.points, "amount": self.amount,
                  "contract": self.contract}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class CommendationInput:
    """Good practice seen on inspection: where, what, the unit credited, photos (attachment ids), points."""

    unit: str  # unit code
    location: str
    text: str
    points: float = 0
    attachment_ids: tuple[int, ...] = ()


def on_advance(uow: UnitOfWork, event: FindingAdvanced) -> None:
    """Handler: firing the `sanction` event records its Sanction in the same transaction.

    Inside `record_sanction` the events of one decision share its one Sanction (one deduction, many findings)."""
    if event.transition.event != SANCTION_EVENT:
        return
    finding = event.finding
    link = SanctionFinding(finding_id=finding.id, audit_seq=finding.audit_seq)
    decision = uow.session.info.get(_OPEN_DECISION)
    if decision is not None:  # one decision on several findings: record_sanction records it once
        decision.findings.append(link)
        return
    sanction = _sanction(finding.unit_id, event.payload, event.actor, event.now, [link])
    uow.session.add(sanction)
    audit.record_row(uow.session, "decide", event.actor, sanction, extra={"findings": [finding.id]}, at=event.now)


def deciding_several(uow: UnitOfWork) -> bool:
    """Whether a decision on several findings is being recorded (its `sanction` events are parts of one)."""
    return uow.session.info.get(_OPEN_DECISION) is not None


def record_sanction(uow: UnitOfWork, actor: Actor, decision: SanctionDecision, *,
                    now: datetime | None = None) -> Sanction:
    """One decision holding a unit to account for several of its findings.

    It means what firing the workflow's `sanction` event means, on each finding: each goes through `advance`
    (role, fields, the state the event leaves, the state it enters, its audit row), and the decision is ONE
    Sanction covering them all, so its points are deducted once. Any finding that refuses refuses the whole."""
    session, now = uow.session, now or utcnow()
    ids = list(dict.fromkeys(decision.finding_ids))
    if not ids:
        raise MissingFields({"findings": "required"})
    # Locked in id order, so concurrent decisions wait for each other instead of deadlocking; a finding the
    # actor may not see is not found, as everywhere else.
    findings = [services.load_finding(uow, i, actor, for_update=True) for i in sorted(ids)]
    units = {f.unit_id for f in findings}
    if len(units) > 1:
        raise InvalidFields({"findings": "a sanction holds one unit to account; these findings belong to "
                                         f"{len(units)} units"})
    payload = decision.payload()
    sanction = _sanction(units.pop(), payload, actor, now, [])
    session.info[_OPEN_DECISION] = sanction
    try:
        for finding in findings:
            if not any(t.event == SANCTION_EVENT for t in _workflow(uow, finding).transitions):
                raise InvalidInput(f"workflow {finding.workflow_name!r} has no {SANCTION_EVENT!r} event "
                                   f"(finding {finding.id})")
            services.advance(uow, finding.id, SANCTION_EVENT, actor, payload, now=now, _for_update=False)
    finally:
        session.info.pop(_OPEN_DECISION, None)
    session.add(sanction)
    audit.record_row(session, "decide", actor, sanction, extra={"findings": ids}, at=now)
    messagebus.publish(uow, SanctionRecorded(sanction, actor, now))
    return sanction


_OPEN_DECISION = "xuncha.sanction_decision"  # session.info key: the Sanction `record_sanction` is filling


def _sanction(unit_id: int, payload: dict, actor: Actor, now: datetime, links: list) -> Sanction:
    return Sanction(unit_id=unit_id, kind=str(payload.get("kind") or "unspecified"),
                    points=float(payload.get("points") or 0), amount=payload.get("amount"),
                    contract=payload.get("contract"), decision=payload.get("decision") or "",
                    decided_by=actor.name, decided_at=now, findings=links)


def _workflow(uow: UnitOfWork, finding: Finding):
    return uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)


def record_commendation(uow: UnitOfWork, actor: Actor, item: CommendationInput, *,
                        now: datetime | None = None) -> Commendation:
    """Record good practice for a unit; the roles allowed are the workflow's rules.commendation.roles."""
    session, now = uow.session, now or utcnow()
    allowed = commenders(uow)
    if not any(role in allowed for role in actor.roles):
        raise NotAllowed(f"{actor.name} may not record commendations; it needs one of: {', '.join(allowed)}",
                         allowed)
    problems = {}
    for name, limit in (("location", 300), ("text", 5000), ("unit", 64)):
        value = getattr(item, name)
        if not isinstance(value, str) or not value.strip():
            problems[name] = "required"
        elif len(value) > limit:
            problems[name] = f"at most {limit} characters"
    points = item.points
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= MAX_COMMENDATION_POINTS:
        problems["points"] = f"must be a number from 0 to {MAX_COMMENDATION_POINTS}"
    ids = list(item.attachment_ids)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        problems["attachment_ids"] = "must be a list of attachment ids"
    elif ids:
        # Photos of a finding the caller may not see are, to the caller, no attachments at all.
        seen = policy.visible_ids(uow, actor, session.scalars(
            sa.select(Attachment.finding_id).where(Attachment.id.in_(ids), Attachment.finding_id.is_not(None))))
        found = set(session.scalars(sa.select(Attachment.id).where(Attachment.id.in_(ids),
                                                                   Attachment.finding_id.in_(sorted(seen)))))
        if missing := [i for i in ids if i not in found]:
            problems["attachment_ids"] = f"no attachment(s) {missing}"
    unit_id = session.scalar(sa.select(Unit.id).where(Unit.code == item.unit)) if "unit" not in problems else None
    if unit_id is None and "unit" not in problems:
        problems["unit"] = f"no unit with code {item.unit!r}"
    if problems:
        raise (MissingFields if all(m == "required" for m in problems.values()) else InvalidFields)(problems)
    commendation = Commendation(unit_id=unit_id, location=item.location.strip(), text=item.text.strip(),
                                attachment_ids=ids, points=float(points), recorded_by=actor.name, at=now)
    session.add(commendation)
    audit.record_row(session, "record", actor, commendation, at=now)
    messagebus.publish(uow, CommendationRecorded(commendation, actor, now))
    return commendation


def commenders(uow: UnitOfWork, workflow: str = DEFAULT_WORKFLOW) -> tuple[str, ...]:
    _, wf = uow.registry.active(uow.session, workflow)
    return tuple((wf.rules.get("commendation") or {}).get("roles") or DEFAULT_COMMENDERS)


def unit_filter(uow: UnitOfWork, actor: Actor, column, unit: str | None) -> list:
    """WHERE conditions limiting `column` (a unit id) to what the actor sees, and to `unit` when given."""
    conditions = []
    visible = policy.visible_units(uow, actor)
    if visible is not None:
        conditions.append(column.in_(sorted(visible)))
    if unit is not None:
        unit_id = uow.session.scalar(sa.select(Unit.id).where(Unit.code == unit))
        if unit_id is None:
            raise NotFound("unit", unit)
        conditions.append(column == unit_id)
    return conditions


def list_sanctions(uow: UnitOfWork, actor: Actor, *, unit: str | None = None, kind: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   finding_id: int | None = None) -> list[Sanction]:
    """Sanctions the actor may see, newest first, filtered by unit code, kind, decision time and finding."""
    query = sa.select(Sanction).where(*unit_filter(uow, actor, Sanction.unit_id, unit))
    if kind is not None:
        query = query.where(Sanction.kind == kind)
    if since is not None:
        query = query.where(Sanction.decided_at >= since)
    if until is not None:
        query = query.where(Sanction.decided_at < until)
    if finding_id is not None:
        query = query.where(Sanction.id.in_(sa.select(SanctionFinding.sanction_id)
                                            .where(SanctionFinding.finding_id == finding_id)))
    query = query.options(orm.selectinload(Sanction.findings)).order_by(Sanction.decided_at.desc(),
                                                                         Sanction.id.desc())
    return list(uow.session.scalars(query))


def list_commendations(uow: UnitOfWork, actor: Actor, *, unit: str | None = None, since: datetime | None = None,
                       until: datetime | None = None) -> list[Commendation]:
    """Commendations the actor may see, newest first."""
    query = sa.select(Commendation).where(*unit_filter(uow, actor, Commendation.unit_id, unit))
    if since is not None:
        query = query.where(Commendation.at >= since)
    if until is not None:
        query = query.where(Commendation.at < until)
    return list(uow.session.scalars(query.order_by(Commendation.at.desc(), Commendation.id.desc())))


SANCTION_COLUMNS = ("id", "unit", "kind", "points", "amount", "contract", "findings", "decided_by", "decided_at",
                    "decision")


def sanction_rows(uow: UnitOfWork, sanctions: list[Sanction]) -> list[list]:
    """Header and one row per sanction, ready for csv.writer (the export)."""
    codes = dict(uow.session.execute(sa.select(Unit.id, Unit.code)).all())
    rows: list[list] = [list(SANCTION_COLUMNS)]
    for s in sanctions:
        rows.append([s.id, codes.get(s.unit_id), s.kind, s.points, s.amount, s.contract or "",
                     " ".join(str(link.finding_id) for link in s.findings), s.decided_by,
                     s.decided_at.isoformat(), s.decision])
    return rows
