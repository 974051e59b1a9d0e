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
    # The calendar due times of this unit's findings are counted on when the state names none (None: office).
    calendar: so.Mapped[str | None] = so.mapped_column(sa.String(64))

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
    token_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    token_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)  # to the minute, not every request
    active: so.Mapped[bool] = so.mapped_column(default=True)  # false: disabled, its token refused
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


# What a scorecard reads of each finding besides its unit and report time (see ix_findings_unit_created_tally).
TALLY_COLUMNS = ("id", "workflow_name", "workflow_version", "state", "closed_on_time", "failed_verifications",
                 "reopenings", "due_at", "overdue_count", "repeat_count")


class Finding(Base):
    """A problem found on inspection, carried by its workflow from report to closure."""

    __tablename__ = "findings"
    __table_args__ = (
        sa.Index("ix_findings_unit_state", "unit_id", "state"),
        sa.Index("ix_findings_category_location", "category", "location"),
        # the list's keyset walk (newest first) within one state or one unit, at any depth
        sa.Index("ix_findings_state_id", "state", "id"),
        sa.Index("ix_findings_unit_id_id", "unit_id", "id"),
        sa.Index("ix_findings_created_at_id", "created_at", "id"),  # keyset pages by report time (`after`)
        # overdue under the id order: walk only findings that have a due time, newest first, instead of
        # reading every overdue one through ix_findings_due_at and sorting them
        sa.Index("ix_findings_due_id", "id", postgresql_where=sa.text("due_at IS NOT NULL"),
                 sqlite_where=sa.text("due_at IS NOT NULL")),
        # scorecards and the ranking count a period's findings per unit from this index alone on PostgreSQL
        # (an index-only scan: the heap is not read); keep TALLY_COLUMNS in step with engine/scorecard.py
        sa.Index("ix_findings_unit_created_tally", "unit_id", "created_at", postgresql_include=list(TALLY_COLUMNS)),
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
    due_calendar: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # the calendar due_at was counted on
    # 整改期限: a deadline set when the finding was assigned, replacing the due time of the states the
    # workflow's rules.deadline names (engine.deadlines)
    deadline_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

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
    # What the change did to the columns scorecards read (new values), so verify can replay them.
    effects: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    key_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))  # the audit key that signed `hash`
    mac: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # HMAC-SHA-256 of `hash`; None: plain chain


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


DAY_KINDS = ("closed", "open")


class CalendarDay(Base):
    """A day an administrator sets against the national calendar: closed (a vacation week) or open (a make-up
    working day the `holidays` package does not know yet)."""

    __tablename__ = "closed_days"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column(sa.Date, unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8), default="closed", server_default="closed")
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


ClosedDay = CalendarDay  # the name it had while days could only be closed


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


# --- audit of everything else that changes a score or a rule, anchors and verification runs ---

class AuditRecord(Base):
    """One change of a record (a sanction, a unit, a user, a closed day...) in its chain; never updated."""

    __tablename__ = "audit_records"
    __table_args__ = (sa.UniqueConstraint("chain", "seq"),)
    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    chain: so.Mapped[str] = so.mapped_column(sa.String(64))
    seq: so.Mapped[int]
    event: so.Mapped[str] = so.mapped_column(sa.String(64))
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)  # e.g. "sanctions:12"
    actor: so.Mapped[str] = so.mapped_column(sa.String(100))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    key_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    mac: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class AuditChain(Base):
    """The head of a record chain, locked while a row is appended so writers of one chain take turns."""

    __tablename__ = "audit_chains"
    chain: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    seq: so.Mapped[int] = so.mapped_column(default=0)
    head: so.Mapped[str] = so.mapped_column(sa.String(64), default="0" * 64)
    # Records of the chain's table with a smaller id were made before records were audited.
    legacy_below: so.Mapped[int] = so.mapped_column(default=0)


class AuditAnchor(Base):
    """A digest over every chain head at one moment; its copies outside the database are what count."""

    __tablename__ = "audit_anchors"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    rows: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    chains: so.Mapped[dict] = so.mapped_column(sa.JSON)  # {"findings": [[id, seq], ...], "records": {chain: seq}}
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))


class AuditRun(Base):
    """The result of a full `xuncha audit verify`, which `GET /audit/verify` answers with on a large log."""

    __tablename__ = "audit_runs"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    ok: so.Mapped[bool]
    report: so.Mapped[dict] = so.mapped_column(sa.JSON)


# --- places, inspection rounds and checks (全覆盖, 两级巡查) ---

LEVELS = ("department", "centre")  # 总务部督查 · 中心自查: who inspects in a round
FOUND_BY = ("department", "centre", "public", "other")  # who found a finding (two-level credit)
ROUND_STATES = ("planned", "in_progress", "done")


class PlaceConfigVersion(Base):
    """One loaded text of the places file (kinds, service periods, coverage targets, credit); the newest rules."""

    __tablename__ = "place_configs"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    yaml_text: so.Mapped[str] = so.mapped_column(sa.Text)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Place(Base):
    """A place on campus: campus → area or building → floor → room, window or point; deactivated, never deleted."""

    __tablename__ = "places"
    __table_args__ = (sa.Index("ix_places_path", "path"),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_en: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("places.id"), index=True)
    # "/0000000001/0000000005/": the ids from the root down to this place (zero-padded, so the path orders a
    # subtree in tree order), so a subtree is one indexed prefix match.
    path: so.Mapped[str] = so.mapped_column(sa.String(1000), default="/")
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    parent: so.Mapped[Place | None] = so.relationship(remote_side=[id])
    unit: so.Mapped[Unit | None] = so.relationship()


class InspectionRound(Base):
    """An inspection round (巡查轮次) at department or centre level: who, when, which places; planned → done."""

    __tablename__ = "inspection_rounds"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    level: so.Mapped[str] = so.mapped_column(sa.String(16))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("units.id"), index=True)  # centre inspecting
    inspectors: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)  # user names
    planned_start: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    planned_end: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    plan: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)  # {places: [codes]} | {subtree: code} | {kind}
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default="planned")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    unit: so.Mapped[Unit | None] = so.relationship()


class Check(Base):
    """One place looked at in a round: when, in which service period, and whether problems were found there.

    The period, the kind of day and the campus day and month are derived when the check is recorded (campus
    time), and the round's level copied, so coverage is a GROUP BY over this table alone."""

    __tablename__ = "checks"
    __table_args__ = (sa.Index("ix_checks_place_at", "place_id", "at"),
                      sa.Index("ix_checks_covers_at", "covers_id", "at"),
                      sa.Index("ix_checks_at_level", "at", "level"))
    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    round_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("inspection_rounds.id"), index=True)
    place_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("places.id"))
    # The service place the check counts for: the place itself or its nearest ancestor whose kind has service
    # periods (a serving window counts for its canteen).
    covers_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("places.id"))
    level: so.Mapped[str] = so.mapped_column(sa.String(16))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    period: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # None: outside every service period
    day_type: so.Mapped[str] = so.mapped_column(sa.String(16))  # weekday | weekend | holiday
    service_day: so.Mapped[date] = so.mapped_column(sa.Date)
    day_number: so.Mapped[int]  # service_day as a proleptic ordinal: week buckets are integer arithmetic
    month_number: so.Mapped[int]  # year * 12 + month - 1 of the service day
    result: so.Mapped[str] = so.mapped_column(sa.String(16))  # ok | findings
    inspector: so.Mapped[str] = so.mapped_column(sa.String(100))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


# Added to models declared above (kept here so parallel changes to those classes merge cleanly).
Finding.place_id = so.mapped_column(sa.ForeignKey("places.id"), nullable=True, index=True)
Finding.round_id = so.mapped_column(sa.ForeignKey("inspection_rounds.id"), nullable=True, index=True)
Finding.check_id = so.mapped_column(sa.ForeignKey("checks.id"), nullable=True, index=True)
Finding.found_by = so.mapped_column(sa.String(16), nullable=True)  # FOUND_BY; derived from the round or source
Finding.place = so.relationship(Place, foreign_keys=[Finding.place_id])  # only the API's answer reads it


# --- briefings (巡查简报) and imports of past findings ---

BRIEFING_STATES = ("draft", "published")


class Briefing(Base):
    """A numbered briefing: a draft names its period, rounds and unit; publishing numbers and freezes it."""

    __tablename__ = "briefings"
    __table_args__ = (sa.UniqueConstraint("year", "number"),)  # two publications never share a number
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft", index=True)
    period_start: so.Mapped[date] = so.mapped_column(sa.Date)
    period_end: so.Mapped[date] = so.mapped_column(sa.Date)  # included
    rounds: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)  # inspection rounds; empty: all
    unit_code: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # one unit and those below; None: all
    title: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    corrects_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("briefings.id"))  # 更正: the one corrected
    year: so.Mapped[int | None]
    number: so.Mapped[int | None]
    content: so.Mapped[dict | None] = so.mapped_column(sa.JSON)  # frozen on publication
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    published_by: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)


class BriefingFile(Base):
    """The bytes of a published briefing in one format (docx, pdf), kept with their sha256, never rewritten."""

    __tablename__ = "briefing_files"
    briefing_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("briefings.id"), primary_key=True)
    format: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    size: so.Mapped[int]
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class ImportedRow(Base):
    """One spreadsheet row brought in as a finding; the same file's row is never imported twice."""

    __tablename__ = "imported_rows"
    file_sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    row: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"), index=True)
    file_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    imported_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    imported_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


# --- public reports by QR code (公众参与) ---

class PublicReport(Base):
    """A finding reported through a place's QR code: the reporter's receipt code, contact and rating.

    Kept beside the finding, not in it: the contact is for inspectors and administrators only (never the unit
    concerned), and the receipt code is all the anonymous reporter holds to follow the report and rate it."""

    __tablename__ = "public_reports"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id"), unique=True)
    receipt: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    contact: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    rating: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)  # 满意度 1-5, once, after closure
    rated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
