"""The daily 待办 digest per unit: what waits on it, what is due today, what is overdue; once per unit and day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.db import utcnow
from engine.models import Finding, Unit
from engine.notify.models import OutboxMessage
from engine.notify.outbox import Notice, enqueue
from engine.notify.routing import Config, config_for
from engine.unit_of_work import Store, UnitOfWork

LISTED = 20  # findings named in one digest; the counts cover all


@dataclass(frozen=True)
class Summary:
    waiting: int
    due_today: int
    overdue: int
    lines: tuple[str, ...]


def folds(uow: UnitOfWork, config: Config, unit_id: int, now: datetime) -> bool:
    """Whether a reminder to this unit is left to its daily digest: a digest is configured and the unit has
    at least `min_items` open findings with a deadline (one message each would drown the rest)."""
    if config.digest is None:
        return False
    count = uow.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(
        Finding.unit_id == unit_id, Finding.closed_at.is_(None), Finding.due_at.is_not(None)))
    return count >= config.digest.min_items


def send_digests(store: Store, now: datetime | None = None, config: Config | None = None) -> int:
    """Queue today's digest for every unit with enough to tell, once the configured campus time has passed.

    Safe to run often and from several deliverers: a unit's digest of a day has one message id per channel and
    address, so a second run finds it queued and adds nothing."""
    config = config or config_for(store)
    if config.digest is None or not config.active:
        return 0
    now = now or utcnow()
    local = now.astimezone(store.calendar.zone)
    if local.time() < config.digest.at:
        return 0
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    queued = 0
    with store.uow(write=False) as uow:
        busy = dict(uow.session.execute(sa.select(Finding.unit_id, sa.func.count()).where(
            Finding.closed_at.is_(None), Finding.due_at.is_not(None)).group_by(Finding.unit_id)).all())
        folded = set(uow.session.scalars(sa.select(OutboxMessage.unit_id).where(
            OutboxMessage.status == "folded", OutboxMessage.created_at >= day_start - timedelta(days=1))))
        done = set(uow.session.scalars(sa.select(OutboxMessage.unit_id).where(
            OutboxMessage.kind == "digest", OutboxMessage.created_at >= day_start)))
    for unit_id in sorted(u for u in set(busy) | folded if u not in done):
        if busy.get(unit_id, 0) < config.digest.min_items and unit_id not in folded:
            continue
        try:
            with store.uow() as uow:
                queued += len(_queue_digest(uow, config, unit_id, now, day_start))
                uow.commit()
        except sa.exc.IntegrityError:
            continue  # another deliverer queued it first
    return queued


def summary(uow: UnitOfWork, unit_id: int, now: datetime, day_start: datetime) -> Summary:
    open_ = sa.select(Finding).where(Finding.unit_id == unit_id, Finding.closed_at.is_(None))
    rows = list(uow.session.scalars(open_.order_by(Finding.due_at.is_(None), Finding.due_at, Finding.id)))
    day_end = day_start + timedelta(days=1)
    overdue = [f for f in rows if f.due_at is not None and f.due_at < now]
    today = [f for f in rows if f.due_at is not None and now <= f.due_at < day_end]
    zone = uow.calendar.zone
    lines = tuple(f"#{f.id} {f.title}（{f.state}，期限 "
                  f"{f.due_at.astimezone(zone).strftime('%m-%d %H:%M') if f.due_at else '-'}）"
                  for f in (overdue + today + [f for f in rows if f not in overdue and f not in today])[:LISTED])
    return Summary(len(rows), len(today), len(overdue), lines)


def _queue_digest(uow: UnitOfWork, config: Config, unit_id: int, now: datetime, day_start: datetime) -> list:
    code, name = uow.session.execute(sa.select(Unit.code, Unit.name).where(Unit.id == unit_id)).one()
    s = summary(uow, unit_id, now, day_start)
    day = day_start.date().isoformat()
    body = (f"{name} {day} 待办：待处理 {s.waiting} 件，今日到期 {s.due_today} 件，已超期 {s.overdue} 件。\n\n"
            + "\n".join(s.lines)
            + (f"\n……另有 {s.waiting - len(s.lines)} 件" if s.waiting > len(s.lines) else "")
            + f"\n\n{code} {day}: {s.waiting} waiting, {s.due_today} due today, {s.overdue} overdue.")
    notice = Notice("digest", f"digest:{code}:{day}", f"【每日待办】{name} {day}", body, (("role", "centre"),),
                    unit_id=unit_id, data={"digest": {"unit": code, "day": day, "waiting": s.waiting,
                                                      "due_today": s.due_today, "overdue": s.overdue}})
    return enqueue(uow, notice, now=now, config=config)
