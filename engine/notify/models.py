"""The outbox: one row per message to one channel and address, and one row per attempt to deliver it."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from engine.db import Base, UTCDateTime, utcnow

STATUSES = ("pending", "sent", "dead", "folded")  # folded: a reminder left to the unit's daily digest


class OutboxMessage(Base):
    """A message written in the transaction of the change that caused it; the deliverer sends it later.

    `message_id` is derived from the cause and the recipient, so the same cause never queues the same message
    twice, and receivers can drop the duplicates at-least-once delivery may bring."""

    __tablename__ = "outbox"
    # The deliverer reads due messages in (next_attempt_at, id) order straight off this index, however many wait.
    __table_args__ = (sa.Index("ix_outbox_status_next", "status", "next_attempt_at", "id"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[str] = so.mapped_column(sa.String(36), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    essential: so.Mapped[bool] = so.mapped_column(default=True)
    finding_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("findings.id"), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"))
    recipient: so.Mapped[str] = so.mapped_column(sa.String(200))  # who, in words: "centre of FOOD", "user li.na"
    channel: so.Mapped[str] = so.mapped_column(sa.String(64))  # a channel named in the notifications file
    address: so.Mapped[str | None] = so.mapped_column(sa.String(300))  # an email address; robots need none
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    data: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)  # what a webhook consumer reads
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    claimed_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # a deliverer's lease
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try to hand a message to its channel: when, how it went, what the other side answered."""

    __tablename__ = "delivery_attempts"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    outbox_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("outbox.id"), index=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    channel: so.Mapped[str] = so.mapped_column(sa.String(64))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))  # sent | failed
    response_code: so.Mapped[int | None]
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    deliverer: so.Mapped[str | None] = so.mapped_column(sa.String(64))
