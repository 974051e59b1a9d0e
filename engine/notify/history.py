"""Reading the outbox: who was told what about a finding, the dead letters, and sending a dead one again."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engine import policy, services
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, InvalidInput, NotAllowed, NotFound
from engine.models import Finding
from engine.notify.models import STATUSES, DeliveryAttempt, OutboxMessage
from engine.unit_of_work import UnitOfWork

OUTBOX_READERS = ("admin",)
MAX_LIST = 1000


@dataclass(frozen=True)
class Told:
    """One message and its attempts, as a history line."""

    message: OutboxMessage
    attempts: list[DeliveryAttempt]


def finding_history(uow: UnitOfWork, actor: Actor, finding_id: int) -> list[Told]:
    """Every message about a finding the actor may see, oldest first, with each delivery attempt."""
    services.load_finding(uow, finding_id, actor)  # not found unless the actor may see the finding
    messages = list(uow.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.finding_id == finding_id)
                                        .order_by(OutboxMessage.created_at, OutboxMessage.id)))
    return _with_attempts(uow, messages)


def list_outbox(uow: UnitOfWork, actor: Actor, status: str | None = None, *, limit: int = 100,
                before_id: int | None = None) -> list[Told]:
    """Messages of the outbox, newest first, for administrators; `status` pending, sent, dead or folded."""
    require_reader(actor)
    if status is not None and status not in STATUSES:
        raise InvalidFields({"status": f"must be one of {', '.join(STATUSES)}"})
    query = sa.select(OutboxMessage)
    return _page(uow, query, status, before_id, limit)


def retry(uow: UnitOfWork, actor: Actor, outbox_id: int) -> OutboxMessage:
    """Give a dead (or waiting) message a fresh set of attempts, due now; one already sent is refused."""
    require_reader(actor)
    row = uow.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id == outbox_id)
                              .with_for_update()).first()
    if row is None:
        raise NotFound("notification", outbox_id)
    if row.status == "sent":
        raise InvalidInput(f"notification {outbox_id} was sent at {row.sent_at.isoformat()}; it is not resent")
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    row.claimed_until = row.claimed_by = None
    uow.session.flush()
    return row


def require_reader(actor: Actor) -> None:
    if not any(role in OUTBOX_READERS for role in actor.roles):
        raise NotAllowed(f"{actor.name} may not read or change the outbox; it needs one of: "
                         f"{', '.join(OUTBOX_READERS)}", OUTBOX_READERS)


def _with_attempts(uow: UnitOfWork, messages: list[OutboxMessage]) -> list[Told]:
    ids = [m.id for m in messages]
    by_message: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in uow.session.scalars(sa.select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(ids))
                                           .order_by(DeliveryAttempt.id)):
            by_message[attempt.outbox_id].append(attempt)
    return [Told(m, by_message[m.id]) for m in messages]



def list_visible(uow: UnitOfWork, actor: Actor, status: str | None = None, *, mine: bool = False,
                 limit: int = 100, before_id: int | None = None) -> list[Told]:
    """Messages a person may read, newest first: those about findings they may see (as a finding's history
    shows them) and those about the records of units they may see; `mine`: only those addressed to them."""
    if status is not None and status not in STATUSES:
        raise InvalidFields({"status": f"must be one of {', '.join(STATUSES)}"})
    units = policy.visible_units(uow, actor)
    about_unit = OutboxMessage.finding_id.is_(None) & (
        sa.true() if units is None else OutboxMessage.unit_id.in_(sorted(units)) if units else sa.false())
    about_finding = OutboxMessage.finding_id.in_(sa.select(Finding.id).where(policy.visible(uow, actor)))
    query = sa.select(OutboxMessage).where(sa.or_(about_finding, about_unit))
    if mine:
        me = f"user {actor.name}"
        query = query.where(sa.or_(OutboxMessage.recipient == me,
                                   OutboxMessage.recipient.startswith(f"{me} (", autoescape=True)))
    return _page(uow, query, status, before_id, limit)


def _page(uow: UnitOfWork, query, status: str | None, before_id: int | None, limit: int) -> list[Told]:
    """One page of messages, newest first, with their attempts."""
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    query = query.order_by(OutboxMessage.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    return _with_attempts(uow, list(uow.session.scalars(query)))
