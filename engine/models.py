"""Typed SQLAlchemy models: units, users, workflow versions, findings, the audit log and attachments."""
from __future__ import annotations

from datetime import datetime

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
