"""The deliverer: claims due messages under a lease, sends each through its channel, records every attempt.

Several deliverers may run at once: a claim is a short write transaction (PostgreSQL: FOR UPDATE SKIP LOCKED;
SQLite: its one write lock) that stamps the rows with a lease, so no two deliverers hold one message. A deliverer
that dies leaves its claims to expire; the next pass after the lease sends them again. That is the only way a
message goes out twice: sent, then the deliverer died before recording it (at-least-once, stable message id)."""
from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.db import utcnow
from engine.errors import InvalidInput
from engine.notify.channels import Channel, Outcome, Outgoing, build
from engine.notify.digest import send_digests
from engine.notify.models import DeliveryAttempt, OutboxMessage
from engine.notify.routing import Config, config_for
from engine.unit_of_work import Store

log = logging.getLogger(__name__)
ERROR_CHARS = 500
RECORD_EVERY = 10  # outcomes recorded per commit
OUTBOX = OutboxMessage.__table__


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # failed this time, will be retried
    dead: int = 0  # failed for the last allowed time
    digests: int = 0

    def summary(self) -> str:
        return f"sent {self.sent}, failed {self.failed}, dead {self.dead}, digests queued {self.digests}"


class Deliverer:
    """One deliverer (a process or thread); `run_once` drains what is due now."""

    def __init__(self, store: Store, config: Config | None = None, *, name: str | None = None):
        self.store = store
        self.fixed_config = config
        self.name = name or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._channels: dict[str, Channel] = {}
        self._built_for: Config | None = None

    @property
    def config(self) -> Config:
        config = self.fixed_config or config_for(self.store)
        if config is not self._built_for:  # the file changed: channels are built again from it
            self._channels, self._built_for = {}, config
        return config

    def run_once(self, now: datetime | None = None, *, limit: int | None = None) -> DeliveryReport:
        """Queue due digests, then claim and send batches until nothing is due (or `limit` messages went)."""
        report = DeliveryReport()
        config = self.config
        report.digests = send_digests(self.store, now, config)
        handled = 0
        while limit is None or handled < limit:
            batch = self.claim(now or utcnow(), min(config.deliver.batch, (limit - handled) if limit else 10**9))
            if not batch:
                break
            handled += len(batch)
            self._send_batch(batch, now, report)
        return report

    def claim(self, now: datetime, size: int) -> list[OutboxMessage]:
        """Stamp up to `size` due messages with this deliverer's lease, in one short transaction."""
        lease = timedelta(seconds=self.config.deliver.lease)
        with self.store.uow() as uow:
            query = (sa.select(OutboxMessage.id)
                     .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                     .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(size))
            if uow.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(uow.session.scalars(query))
            if not ids:
                return []
            uow.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                .values(claimed_until=now + lease, claimed_by=self.name))
            rows = list(uow.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                            .order_by(OutboxMessage.id)))
            uow.commit()
        return rows

    def _send_batch(self, batch: list[OutboxMessage], now: datetime | None, report: DeliveryReport) -> None:
        deliver = self.config.deliver
        started = time.monotonic()
        done: list[tuple[OutboxMessage, Outcome, datetime]] = []
        waiting_since = 0.0
        for i, row in enumerate(batch):
            if time.monotonic() - started > deliver.lease - 2 * deliver.timeout:
                self._record(done, report)
                self._release(batch[i:])  # our lease would run out mid-send: leave the rest to the next claim
                return
            done.append((row, self._send(row), now or utcnow()))
            waiting_since = waiting_since or time.monotonic()
            # Outcomes are recorded a few at a time (one commit for several sends), never more than a second
            # late: what a crash can repeat is what was sent and not yet recorded, at most RECORD_EVERY messages.
            if len(done) >= RECORD_EVERY or time.monotonic() - waiting_since > 1.0:
                self._record(done, report)
                done, waiting_since = [], 0.0
        self._record(done, report)

    def _send(self, row: OutboxMessage) -> Outcome:
        try:
            channel = self._channel(row.channel)
            return channel.send(Outgoing(row.message_id, row.kind, row.subject, row.body, row.address,
                                         row.data or {}))
        except Exception as exc:  # a channel's library error (network, TLS, SMTP) is an attempt that failed
            return Outcome(False, None, f"{type(exc).__name__}: {exc}")

    def _channel(self, name: str) -> Channel:
        config = self.config
        channel = self._channels.get(name)
        if channel is None:
            spec = config.channels.get(name)
            if spec is None:
                raise InvalidInput(f"no channel named {name!r} in the notifications file")
            channel = self._channels[name] = build(spec, config.base, config.deliver.timeout)
        return channel

    def _record(self, done: list[tuple[OutboxMessage, Outcome, datetime]], report: DeliveryReport) -> None:
        """Record a few outcomes in one transaction: one UPDATE for all that went out, one per failure, one
        INSERT of every attempt (Core statements: the ORM's bookkeeping would cost more than the work)."""
        if not done:
            return
        with self.store.uow() as uow:
            sent = [row.id for row, outcome, _ in done if outcome.ok]
            if sent:  # whoever holds the claim now, it went out: no later claim may send it again
                uow.session.execute(sa.update(OUTBOX).where(OUTBOX.c.id.in_(sent), OUTBOX.c.status == "pending")
                                    .values(status="sent", sent_at=done[-1][2], last_error=None,
                                            attempts=OUTBOX.c.attempts + 1, claimed_until=None, claimed_by=None))
                report.sent += len(sent)
            for row, outcome, now in done:
                if not outcome.ok:
                    self._record_failure(uow, row, outcome, now, report)
            uow.session.execute(sa.insert(DeliveryAttempt.__table__), [
                dict(outbox_id=row.id, at=now, channel=row.channel, outcome="sent" if outcome.ok else "failed",
                     response_code=outcome.code, error=_error(outcome), deliverer=self.name[:64])
                for row, outcome, now in done])
            uow.commit()

    def _record_failure(self, uow, row: OutboxMessage, outcome: Outcome, now: datetime,
                        report: DeliveryReport) -> None:
        deliver = self.config.deliver
        attempts = row.attempts + 1
        dead = attempts >= deliver.max_attempts
        delay = backoff(attempts, deliver.backoff, deliver.max_backoff)
        uow.session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == row.id, OUTBOX.c.claimed_by == self.name).values(
            status="dead" if dead else "pending", last_error=_error(outcome), attempts=OUTBOX.c.attempts + 1,
            next_attempt_at=now + timedelta(seconds=delay), claimed_until=None, claimed_by=None))
        report.dead += dead
        report.failed += not dead
        if dead:
            log.warning("message %s (%s to %s) is dead after %d attempts: %s", row.message_id, row.kind,
                        row.channel, attempts, _error(outcome))

    def _release(self, rows: list[OutboxMessage]) -> None:
        with self.store.uow() as uow:
            uow.session.execute(sa.update(OutboxMessage).where(
                OutboxMessage.id.in_([r.id for r in rows]), OutboxMessage.claimed_by == self.name)
                .values(claimed_until=None, claimed_by=None))
            uow.commit()


def _error(outcome: Outcome) -> str | None:
    return (outcome.error or "")[:ERROR_CHARS] or None


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next try: doubling from `base`, at most `cap`, half of it random so that messages
    that failed together (a robot down for an hour) do not all come back in the same second."""
    delay = min(cap, base * 2 ** (attempts - 1))
    return delay / 2 + random.uniform(0, delay / 2)
