"""Queue a notice in the caller's transaction: resolve who hears of it, one outbox row per channel and address."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from engine.db import utcnow
from engine.models import User
from engine.notify.models import OutboxMessage
from engine.notify.routing import ANY, ESSENTIAL, Config, config_for
from engine.unit_of_work import UnitOfWork

NAMESPACE = uuid.UUID("5b0c8f2e-4f4e-4d0c-9a52-0c1f3e6b7a11")  # message ids of this system
UNIT_ROLES = ("centre",)  # roles whose users hear only of their own unit and the units below it


@dataclass(frozen=True)
class Notice:
    """What to say and to whom: `audience` holds ("role", role) for the unit's role holders, ("user", name)."""

    kind: str
    cause: str  # what caused it, unique per cause: "finding:7:seq:3", "sanction:4", "digest:FOOD:2026-03-02"
    subject: str
    body: str
    audience: tuple[tuple[str, str], ...]
    unit_id: int | None = None
    finding_id: int | None = None
    data: dict = field(default_factory=dict)
    status: str = "pending"  # "folded": recorded for the finding's history, told in the unit's daily digest


@dataclass(frozen=True)
class Target:
    recipient: str
    channel: str
    address: str | None


def message_id(cause: str, kind: str, channel: str, address: str | None) -> str:
    """The same cause told to the same place always has the same id (receivers drop duplicates by it)."""
    return str(uuid.uuid5(NAMESPACE, f"{cause}|{kind}|{channel}|{address or ''}"))


def enqueue(uow: UnitOfWork, notice: Notice, *, now: datetime | None = None,
            config: Config | None = None) -> list[OutboxMessage]:
    """Write the notice's messages into the outbox in the caller's transaction (rolled back with it)."""
    config = config or config_for(uow.store)
    if not config.active:
        return []
    now = now or utcnow()
    rows = []
    for target in targets(uow, config, notice):
        mid = message_id(notice.cause, notice.kind, target.channel, target.address)
        if uow.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.message_id == mid)) is not None:
            continue  # this cause was told there already (a replayed event)
        row = OutboxMessage(
            message_id=mid, kind=notice.kind, essential=notice.kind in ESSENTIAL, finding_id=notice.finding_id,
            unit_id=notice.unit_id, recipient=target.recipient, channel=target.channel, address=target.address,
            subject=notice.subject[:300], body=notice.body,
            data={**notice.data, "kind": notice.kind, "message_id": mid}, status=notice.status, attempts=0,
            next_attempt_at=now, created_at=now)
        uow.session.add(row)
        rows.append(row)
    return rows


def targets(uow: UnitOfWork, config: Config, notice: Notice) -> list[Target]:
    """Every route that matches an audience of the notice, and every person of it with a channel of their own
    who has not opted out of the kind; each channel and address once."""
    chain = _unit_chain(uow, notice.unit_id)
    found: dict[tuple[str, str | None], Target] = {}

    def add(recipient: str, channel: str, address: str | None) -> None:
        found.setdefault((channel, address), Target(recipient, channel, address))

    for what, name in notice.audience:
        if what == "user":
            person = config.users.get(name)
            if person and person.channel and notice.kind not in person.opt_out:
                add(f"user {name}", person.channel, person.address)
            continue
        for route in config.routes:
            if route.role in (name, ANY) and (route.unit == ANY or route.unit in chain):
                add(f"{name} of {chain[0] if chain else 'all units'}", route.channel, route.address)
        for user_name in _holders(uow, name, notice.unit_id, chain, config):
            person = config.users[user_name]
            if notice.kind not in person.opt_out:
                add(f"user {user_name} ({name})", person.channel, person.address)
    return list(found.values())


def _unit_chain(uow: UnitOfWork, unit_id: int | None) -> list[str]:
    """The unit's code and its ancestors' codes, nearest first."""
    if unit_id is None:
        return []
    parents = uow.store.directory.parents(uow.session)
    chain, current = [], unit_id
    while current is not None and len(chain) < 50:
        chain.append(uow.store.directory.unit(uow.session, current).code)
        current = parents.get(current)
    return chain


def _holders(uow: UnitOfWork, role: str, unit_id: int | None, chain: list[str], config: Config) -> list[str]:
    """Active users holding `role` who have a channel of their own (a centre: of the unit or one above it)."""
    named = [name for name, person in config.users.items() if person.channel]
    if not named:
        return []
    rows = uow.session.execute(sa.select(User.name, User.roles, User.unit_id).where(
        User.name.in_(named), User.active.is_(True))).all()
    allowed = set()
    if role in UNIT_ROLES and unit_id is not None:
        parents, current = uow.store.directory.parents(uow.session), unit_id
        while current is not None and len(allowed) < 50:
            allowed.add(current)
            current = parents.get(current)
    return sorted(name for name, roles, user_unit in rows
                  if role in (roles or ()) and (role not in UNIT_ROLES or user_unit in allowed))
