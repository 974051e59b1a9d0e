"""Due times at work: the sweep that escalates overdue findings and records reminders; notifications."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from engine import messagebus, services
from engine.actors import SYSTEM, Actor
from engine.db import utcnow
from engine.errors import DomainError
from engine.events import DeadlineMissed, ReminderDue
from engine.models import Finding, IdempotencyRecord, Notification
from engine.records import unit_filter
from engine.unit_of_work import Store, UnitOfWork
from workflows.model import Label, State

log = logging.getLogger(__name__)
OVERDUE_RULE = "overdue"  # the rule name the sweep's events carry in their payload and audit row
BATCH = 500
IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass
class SweepReport:
    fired: int = 0  # on_overdue events fired (each also an "overdue" notification)
    reminders: int = 0
    overdue_notices: int = 0  # overdue in a state with no on_overdue event: noticed, not moved
    failed: list[tuple[int, str]] = field(default_factory=list)  # (finding id, why); retried next sweep
    expired_keys: int = 0  # Idempotency-Key answers past IDEMPOTENCY_TTL, forgotten

    def summary(self) -> str:
        return (f"fired {self.fired}, failed {len(self.failed)}, reminders {self.reminders}, "
                f"overdue notices {self.overdue_notices}")


def due_query(now: datetime, limit: int = BATCH, after: tuple[datetime, int] | None = None) -> sa.Select:
    """Ids of findings the sweep has work for, read through the index on `sweep_at` (set by services.enter_state
    to the reminder or due time still ahead, cleared once acted on), so the cost follows the findings due, not
    the findings stored; `after` continues from the last (sweep_at, id) of the previous batch."""
    query = sa.select(Finding.id, Finding.sweep_at).where(Finding.sweep_at <= now)
    if after is not None:
        at, last_id = after
        query = query.where(sa.or_(Finding.sweep_at > at, sa.and_(Finding.sweep_at == at, Finding.id > last_id)))
    return query.order_by(Finding.sweep_at, Finding.id).limit(limit)


def sweep(store: Store, now: datetime | None = None, *, batch: int = BATCH) -> SweepReport:
    """Fire each overdue finding's on_overdue event as `system` and record reminders, one transaction each.

    Running it again changes nothing: what it acted on has moved on (a new state, or `sweep_at` cleared). Two
    sweeps at once act on a finding once: each locks the row it works on (PostgreSQL: FOR UPDATE SKIP LOCKED;
    SQLite: one writer at a time) and re-checks that it is still due."""
    now = now or utcnow()
    store.refresh_calendar()  # closed and open days, units' calendars changed elsewhere count from this sweep on
    report, seen, after = SweepReport(), set(), None
    while True:
        with store.uow(write=False) as uow:
            rows = uow.session.execute(due_query(now, batch, after)).all()
        if not rows:
            report.expired_keys = expire_idempotency_keys(store, now)
            return report
        after = (rows[-1].sweep_at, rows[-1].id)
        for row in rows:
            if row.id not in seen:
                seen.add(row.id)
                _sweep_one(store, row.id, now, report)


def expire_idempotency_keys(store: Store, now: datetime) -> int:
    """Forget stored answers to Idempotency-Key requests older than IDEMPOTENCY_TTL (a retry is that recent)."""
    with store.uow() as uow:
        gone = uow.session.execute(sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL)).rowcount
        uow.commit()
    return gone


def _sweep_one(store: Store, finding_id: int, now: datetime, report: SweepReport) -> None:
    try:
        with store.uow() as uow:
            query = sa.select(Finding).where(Finding.id == finding_id, Finding.sweep_at <= now)
            if uow.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            finding = uow.session.scalars(query).first()
            if finding is None:
                return  # another sweep holds it or has already acted
            outcome = _act(uow, finding, now)
            uow.commit()
    except Exception as exc:  # one finding's failure must not stop the sweep; it is reported and retried
        if not isinstance(exc, DomainError):
            log.exception("sweep failed on finding %s", finding_id)
        report.failed.append((finding_id, f"{type(exc).__name__}: {exc}"))
        return
    if outcome == "fired":
        report.fired += 1
    elif outcome == "reminder":
        report.reminders += 1
    elif outcome == "overdue":
        report.overdue_notices += 1


def _act(uow: UnitOfWork, finding: Finding, now: datetime) -> str | None:
    workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
    state = workflow.states[finding.state]
    if finding.due_at is not None and finding.due_at <= now:
        # A reminder not yet sent is moot now; the unit is told the deadline passed instead.
        moves = workflow.outgoing(state.name, state.on_overdue) if state.on_overdue else []
        _notify(uow, finding, state, "overdue", now, moves[0].label if moves else None)
        if state.on_overdue:
            services.advance(uow, finding.id, state.on_overdue, SYSTEM,  # 查而不改, counted by the same UPDATE
                             {"missed_due": finding.due_at.isoformat()}, rule=OVERDUE_RULE, now=now,
                             also_count=("overdue_count",))
            return "fired"  # advance entered the next state and set its sweep_at
        finding.sweep_at = None
        return "overdue"
    if finding.remind_at is not None and finding.remind_at <= now:
        _notify(uow, finding, state, "reminder", now)
        finding.sweep_at = finding.due_at
        return "reminder"
    finding.sweep_at = finding.due_at if finding.due_at and finding.due_at > now else None
    return None


def _notify(uow: UnitOfWork, finding: Finding, state: State, kind: str, now: datetime,
            action: Label | None = None) -> Notification:
    due = finding.due_at.astimezone(uow.calendar.zone).strftime("%Y-%m-%d %H:%M") if finding.due_at else "-"
    label = state.label
    if kind == "reminder":
        zh = f"巡查问题 #{finding.id}「{finding.title}」{label.zh}期限将至：{due}"
        en = f"Finding #{finding.id} “{finding.title}”: {label.en} is due at {due}"
    else:
        zh = (f"巡查问题 #{finding.id}「{finding.title}」已超过{label.zh}期限（{due}）"
              + (f"，已自动{action.zh}" if action else ""))
        en = (f"Finding #{finding.id} “{finding.title}”: {label.en} was due at {due}"
              + (f"; automatic {action.en.lower()}" if action else ""))
    notification = Notification(unit_id=finding.unit_id, finding_id=finding.id, kind=kind, state=finding.state,
                                entry_seq=finding.audit_seq, message_zh=zh, message_en=en, due_at=finding.due_at,
                                created_at=now)
    uow.session.add(notification)
    messagebus.publish(uow, ReminderDue(finding, state, now) if kind == "reminder"
                       else DeadlineMissed(finding, state, now, action))
    return notification


def list_notifications(uow: UnitOfWork, actor: Actor, unit: str | None = None, since: datetime | None = None,
                       *, limit: int = 200) -> list[Notification]:
    """Notifications for the units the actor may see (or for `unit`), newest first."""
    query = sa.select(Notification).where(*unit_filter(uow, actor, Notification.unit_id, unit))
    if since is not None:
        query = query.where(Notification.created_at >= since)
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(max(1, min(limit, 1000)))
    return list(uow.session.scalars(query))


def sweep_plan(uow: UnitOfWork, now: datetime) -> str:
    """The database's plan for the sweep's query (EXPLAIN), to show it reads the sweep_at index."""
    compiled = due_query(now).compile(dialect=uow.session.get_bind().dialect)
    params = {k: (v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
                  if uow.dialect == "sqlite" and isinstance(v, datetime) else v)
              for k, v in compiled.params.items()}
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    if uow.dialect == "sqlite":
        rows = uow.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", params)
        return "\n".join(str(r[-1]) for r in rows)
    rows = uow.session.connection().exec_driver_sql(f"EXPLAIN {compiled.string}", params)
    return "\n".join(r[0] for r in rows)
