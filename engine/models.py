"""Typed SQLAlchemy models: units, users, workflow versions, findings, the audit log and attachments."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from engine.db import Base, UTCDateTime, utcnow

SOURCES = ("department", "self_inspection", "public")  # 总务部巡查 · 中心自查 · 服务对象反映
SEVERITIES = ("low", "normal", "high", "critical")


class Unit(Base):
    """An organisational unit: the department, a service centre, an office; units form a tree."""

    __tablename__ = "units"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_en: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    parent: so.Mapped[Unit | None] = so.relationship(remote_side=[id])


class User(Base):
    """A person or system account; authenticates with an API token of which only the hash is kept."""

    __tablename__ = "users"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    display_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    roles: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"))
    token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # People sign in to the pages with a password (argon2 hash); lockout state is here so every worker agrees.
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    failed_logins: so.Mapped[int] = so.mapped_column(default=0)
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    unit: so.Mapped[Unit | None] = so.relationship()


class WorkflowVersion(Base):
    """One loaded text of a named workflow; findings stay pinned to the version they began on."""

    __tablename__ = "workflow_versions"
    __table_args__ = (sa.UniqueConstraint("name", "number"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    number: so.Mapped[int]
    yaml_text: so.Mapped[str] = so.mapped_column(sa.Text)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    active: so.Mapped[bool] = so.mapped_column(default=True)


class Finding(Base):
    """A problem found on inspection, carried by its workflow from report to closure."""

    __tablename__ = "findings"
    __table_args__ = (
        sa.Index("ix_findings_unit_state", "unit_id", "state"),
        sa.Index("ix_findings_category_location", "category", "location"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    category: so.Mapped[str] = so.mapped_column(sa.String(100))
    location: so.Mapped[str] = so.mapped_column(sa.String(300))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id"))
    source: so.Mapped[str] = so.mapped_column(sa.String(32))
    severity: so.Mapped[str] = so.mapped_column(sa.String(16), default="normal")
    reporter_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    inspection_round: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    workflow_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    workflow_version: so.Mapped[int]
    state: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    version: so.Mapped[int] = so.mapped_column(default=1)  # bumped by every change; the API's ETag
    state_entered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    remind_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    failed_verifications: so.Mapped[int] = so.mapped_column(default=0)
    reopenings: so.Mapped[int] = so.mapped_column(default=0)
    overdue_count: so.Mapped[int] = so.mapped_column(default=0)
    repeat_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("findings.id"))
    repeat_count: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The next moment the sweep must act (a reminder or the due time), cleared once acted on, so the
    # sweep reads only findings it has work for; and whether the last closing missed no deadline.
    sweep_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    closed_on_time: so.Mapped[bool | None] = so.mapped_column()

    audit_seq: so.Mapped[int] = so.mapped_column(default=0)  # head of this finding's audit chain,
    audit_head: so.Mapped[str] = so.mapped_column(sa.String(64), default="0" * 64)  # kept to skip a query

    unit: so.Mapped[Unit] = so.relationship()
    reporter: so.Mapped[User | None] = so.relationship()


class AuditEntry(Base):
    """One state change of one finding; rows chain by hash and are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.UniqueConstraint("finding_id", "seq"),)
    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"))
    seq: so.Mapped[int]
    event: so.Mapped[str] = so.mapped_column(sa.String(64))
    from_state: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    to_state: so.Mapped[str] = so.mapped_column(sa.String(64))
    actor: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)
    role: so.Mapped[str] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    comment: so.Mapped[str | None] = so.mapped_column(sa.Text)
    workflow_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    workflow_version: so.Mapped[int]
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))


class Attachment(Base):
    """Evidence (photo, document) stored on disk under the instance folder by content hash."""

    __tablename__ = "attachments"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("findings.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(255))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    uploaded_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The first answer to a request sent with an Idempotency-Key, replayed when the client retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    method: so.Mapped[str] = so.mapped_column(sa.String(10))
    path: so.Mapped[str] = so.mapped_column(sa.String(500))
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[int]
    headers: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


# --- the closed loop: notifications, closed days, recurrence links, sanctions, commendations ---

SANCTION_KINDS = ("criticism", "warning", "deduction", "contract_penalty")  # 通报批评 · 警告 · 扣分 · 合同罚则


class Notification(Base):
    """A reminder before a due time, or notice of a missed one, for the unit responsible for a finding."""

    __tablename__ = "notifications"
    # One notice of a kind per state entry (identified by the audit seq that entered it), even if sweeps race.
    __table_args__ = (sa.UniqueConstraint("finding_id", "kind", "entry_seq"),
                      sa.Index("ix_notifications_unit_created", "unit_id", "created_at"))
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id"))
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))  # reminder | overdue
    state: so.Mapped[str] = so.mapped_column(sa.String(64))
    entry_seq: so.Mapped[int]
    message_zh: so.Mapped[str] = so.mapped_column(sa.Text)
    message_en: so.Mapped[str] = so.mapped_column(sa.Text)
    due_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


class ClosedDay(Base):
    """A day the campus does not work although the national calendar says it does (a vacation week)."""

    __tablename__ = "closed_days"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column(sa.Date, unique=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class FindingLink(Base):
    """屡查屡犯: an earlier finding of the same category at the same place, linked when the later one came in."""

    __tablename__ = "finding_links"
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"), primary_key=True)
    earlier_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"), primary_key=True, index=True)
    earlier_open: so.Mapped[bool]  # the earlier one was still open: 查而不改 for its unit
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Sanction(Base):
    """A decision holding a unit to account (追责): kind, points deducted, penalty, the findings it covers."""

    __tablename__ = "sanctions"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    points: so.Mapped[float] = so.mapped_column(sa.Numeric(8, 2, asdecimal=False), default=0)
    amount: so.Mapped[float | None] = so.mapped_column(sa.Numeric(12, 2, asdecimal=False))  # CNY
    contract: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    decision: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    decided_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    decided_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)

    findings: so.Mapped[list[SanctionFinding]] = so.relationship(cascade="all, delete-orphan")


class SanctionFinding(Base):
    """A finding a sanction covers; `audit_seq` is the finding's audit row when the `sanction` event decided it."""

    __tablename__ = "sanction_findings"
    sanction_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sanctions.id"), primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"), primary_key=True, index=True)
    audit_seq: so.Mapped[int | None]


class Commendation(Base):
    """Good practice found on inspection (正面典型): a first-class record that adds points to its unit."""

    __tablename__ = "commendations"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id"), index=True)
    location: so.Mapped[str] = so.mapped_column(sa.String(300))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    attachment_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)  # photos
    points: so.Mapped[float] = so.mapped_column(sa.Numeric(8, 2, asdecimal=False), default=0)
    recorded_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
