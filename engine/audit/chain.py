"""Writing the audit chains: a finding's rows and every other record's, each hashed onto the one before it."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine.audit.keys import KeyRing
from engine.db import dialect_insert, utcnow
from engine.models import (
    AuditChain,
    AuditEntry,
    AuditRecord,
    CalendarDay,
    Commendation,
    Finding,
    Place,
    PublicReport,
    Sanction,
    Unit,
    User,
    WorkflowVersion,
)

GENESIS = "0" * 64
# The finding columns scorecards read besides the state: each audit row records the new values it set.
SCORED = ("unit_id", "due_at", "closed_at", "closed_on_time", "overdue_count", "failed_verifications",
          "reopenings", "repeat_of_id", "repeat_count")
# Record chains whose table verify compares with the chain: the columns each record's snapshot holds.
TRACKED = {
    "sanctions": (Sanction, ("unit_id", "kind", "points", "amount", "contract", "decided_by", "decided_at")),
    "commendations": (Commendation, ("unit_id", "points", "location", "attachment_ids", "recorded_by", "at")),
    "units": (Unit, ("code", "name", "parent_id", "calendar")),
    "users": (User, ("name", "roles", "unit_id", "active", "token_hash")),
    "workflows": (WorkflowVersion, ("name", "number", "sha256", "active")),
    "calendar": (CalendarDay, ("day", "kind", "note")),
    # A place's unit is the unit its findings default to and whose coverage and 漏查 it counts in.
    "places": (Place, ("code", "name_zh", "name_en", "kind", "parent_id", "unit_id", "active")),
    # The public's 满意度 counts in the unit's scorecard; the reporter's contact and receipt code stay out of the log.
    "public_reports": (PublicReport, ("finding_id", "rating", "rated_at")),
}
TRACKED_BY_TABLE = {model.__tablename__: chain for chain, (model, _) in TRACKED.items()}


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(value):
    """A column value as the JSON the chain stores and compares: times in UTC, dates ISO, numbers plain."""
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _digest(fields: list) -> str:
    body = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_hash(*, finding_id: int, seq: int, event: str, from_state: str | None, to_state: str, actor: str,
             role: str, at: datetime, payload: dict, comment: str | None, workflow_name: str,
             workflow_version: int, prev_hash: str, effects: dict | None = None, **_) -> str:
    """SHA-256 over a canonical JSON of every recorded field, so editing any of them breaks the chain."""
    fields = [finding_id, seq, event, from_state, to_state, actor, role, canonical_time(at), payload, comment,
              workflow_name, workflow_version, prev_hash]
    if effects is not None:  # rows written before effects were recorded hash as they always did
        fields.append(effects)
    return _digest(fields)


def entry_hash(entry) -> str:
    """The hash of a stored row (an AuditEntry or a Core row with the same columns)."""
    return row_hash(**{c: getattr(entry, c) for c in _ENTRY_FIELDS})


_ENTRY_FIELDS = ("finding_id", "seq", "event", "from_state", "to_state", "actor", "role", "at", "payload",
                 "comment", "workflow_name", "workflow_version", "prev_hash", "effects")


def record_hash(*, chain: str, seq: int, event: str, subject: str | None, actor: str, at: datetime,
                payload: dict, prev_hash: str, **_) -> str:
    return _digest(["record", chain, seq, event, subject, actor, canonical_time(at), payload, prev_hash])


def keys_of(session: orm.Session) -> KeyRing:
    """The key ring the session's Store was given (engine.unit_of_work puts it in `session.info`)."""
    return session.info.get("audit_keys") or _NO_KEYS


_NO_KEYS = KeyRing()


def effects(finding: Finding, changes: dict | None) -> dict:
    """The scored columns a change sets, with their new values; `None` means the finding as it stands now."""
    if changes is None:
        return {k: canonical(getattr(finding, k)) for k in SCORED}
    return {k: canonical(changes[k]) for k in SCORED if k in changes and changes[k] != getattr(finding, k)}


def append(session: orm.Session, finding: Finding, *, seq: int, prev_hash: str, event: str,
           from_state: str | None, to_state: str, actor: str, role: str, at: datetime, payload: dict,
           comment: str | None, effects: dict | None = None) -> str:
    """Insert the next row of `finding`'s chain in the session's transaction; returns the row's hash."""
    row = {
        "finding_id": finding.id, "seq": seq, "event": event, "from_state": from_state, "to_state": to_state,
        "actor": actor, "role": role, "at": at, "payload": payload, "comment": comment,
        "workflow_name": finding.workflow_name, "workflow_version": finding.workflow_version,
        "prev_hash": prev_hash, "effects": effects,
    }
    row["hash"] = row_hash(**row)
    row["key_id"], row["mac"] = keys_of(session).sign(row["hash"])
    # A Core insert: the log is append-only, so nothing needs the ORM's change tracking, and it is the hot path.
    session.execute(_INSERT, row)
    return row["hash"]


_INSERT = AuditEntry.__table__.insert()
_INSERT_RECORD = AuditRecord.__table__.insert()
_CHAINS = AuditChain.__table__


def record_change(session: orm.Session, chain: str, event: str, actor, payload: dict, *,
                  subject: str | None = None, at: datetime | None = None) -> int:
    """Append a row to record chain `chain` in the session's transaction; returns its sequence number.

    Call it from every use case that changes something a score or a rule depends on, in the same transaction:

        audit.record_change(uow.session, "users", "disable", actor, {"user": user.name}, subject=f"users:{user.id}")

    `actor` is an Actor or a name; `payload` is JSON (it is hashed as given). For a row of a table listed in
    TRACKED prefer `record_row`, which snapshots the columns `xuncha audit verify` compares with the table.
    Writers of one chain take turns on its head row, so a chain never forks.
    """
    at = at or utcnow()
    seq, prev = _lock_head(session, chain)
    row = {"chain": chain, "seq": seq + 1, "event": event, "subject": subject,
           "actor": actor if isinstance(actor, str) else actor.name, "at": at, "payload": payload,
           "prev_hash": prev}
    row["hash"] = record_hash(**row)
    row["key_id"], row["mac"] = keys_of(session).sign(row["hash"])
    session.execute(_INSERT_RECORD, row)
    session.execute(_CHAINS.update().where(_CHAINS.c.chain == chain).values(seq=row["seq"], head=row["hash"]))
    return row["seq"]


def record_row(session: orm.Session, event: str, actor, obj, *, extra: dict | None = None,
               at: datetime | None = None, deleted: bool = False) -> int:
    """Record a change of a row of a TRACKED table (flushed, so it has its id): its columns after the change.

    `deleted=True` records that the row is gone. `extra` adds context (a reason, a mapping) to the payload."""
    session.flush()
    table = obj.__tablename__
    chain = TRACKED_BY_TABLE[table]
    payload = {**(extra or {}), "row": None if deleted else snapshot(chain, obj)}
    return record_change(session, chain, event, actor, payload, subject=f"{table}:{obj.id}", at=at)


def snapshot(chain: str, row) -> dict:
    return {c: canonical(getattr(row, c)) for c in TRACKED[chain][1]}


def _lock_head(session: orm.Session, chain: str) -> tuple[int, str]:
    query = sa.select(_CHAINS.c.seq, _CHAINS.c.head).where(_CHAINS.c.chain == chain).with_for_update()
    found = session.execute(query).first()
    if found is None:
        insert = dialect_insert(session)(_CHAINS).values(chain=chain, seq=0, head=GENESIS, legacy_below=0)
        session.execute(insert.on_conflict_do_nothing())
        found = session.execute(query).first()
    return found.seq, found.head


def last_entry(session: orm.Session, finding_id: int) -> AuditEntry | None:
    return session.scalars(
        sa.select(AuditEntry).where(AuditEntry.finding_id == finding_id)
        .order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
