"""The tamper-evident audit chain: each row of a finding carries the hash of the row before it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine.models import AuditEntry, Finding

GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(*, finding_id: int, seq: int, event: str, from_state: str | None, to_state: str, actor: str,
             role: str, at: datetime, payload: dict, comment: str | None, workflow_name: str,
             workflow_version: int, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of every recorded field, so editing any of them breaks the chain."""
    body = json.dumps(
        [finding_id, seq, event, from_state, to_state, actor, role, canonical_time(at), payload, comment,
         workflow_name, workflow_version, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    return row_hash(
        finding_id=entry.finding_id, seq=entry.seq, event=entry.event, from_state=entry.from_state,
        to_state=entry.to_state, actor=entry.actor, role=entry.role, at=entry.at, payload=entry.payload,
        comment=entry.comment, workflow_name=entry.workflow_name, workflow_version=entry.workflow_version,
        prev_hash=entry.prev_hash,
    )


def append(session: orm.Session, finding: Finding, *, seq: int, prev_hash: str, event: str,
           from_state: str | None, to_state: str, actor: str, role: str, at: datetime, payload: dict,
           comment: str | None) -> str:
    """Insert the next row of `finding`'s chain in the session's transaction; returns the row's hash."""
    row = {
        "finding_id": finding.id, "seq": seq, "event": event, "from_state": from_state, "to_state": to_state,
        "actor": actor, "role": role, "at": at, "payload": payload, "comment": comment,
        "workflow_name": finding.workflow_name, "workflow_version": finding.workflow_version,
        "prev_hash": prev_hash,
    }
    row["hash"] = row_hash(**row)
    # A Core insert: the log is append-only, so nothing needs the ORM's change tracking, and it is the hot path.
    session.execute(_INSERT, row)
    return row["hash"]


_INSERT = AuditEntry.__table__.insert()


def last_entry(session: orm.Session, finding_id: int) -> AuditEntry | None:
    return session.scalars(
        sa.select(AuditEntry).where(AuditEntry.finding_id == finding_id)
        .order_by(AuditEntry.seq.desc()).limit(1)
    ).first()


@dataclass
class ChainReport:
    ok: bool
    rows_checked: int
    finding_id: int | None = None
    seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def verify(session: orm.Session, finding_id: int | None = None, batch: int = 5000) -> ChainReport:
    """Recompute every chain in order; stop at the first break and say where it is."""
    query = sa.select(AuditEntry).order_by(AuditEntry.finding_id, AuditEntry.seq)
    if finding_id is not None:
        query = query.where(AuditEntry.finding_id == finding_id)
    heads = sa.select(Finding.id, Finding.state, Finding.audit_head)
    if finding_id is not None:
        heads = heads.where(Finding.id == finding_id)
    states = {row.id: (row.state, row.audit_head) for row in session.execute(heads)}
    checked, current, expected_seq, prev, last_state = 0, None, 1, GENESIS, None

    def finish(fid):
        if fid is None:
            return None
        state, head = states.get(fid, (None, None))
        if state != last_state:
            return ChainReport(False, checked, fid, expected_seq - 1,
                               f"finding is in state {state!r} but its log ends in {last_state!r}")
        if head != prev:
            return ChainReport(False, checked, fid, expected_seq - 1,
                               "log ends before the finding's recorded head: rows were removed")
        return None

    # `with` closes the server-side cursor (yield_per) when a break is found and we return early.
    with session.scalars(query.execution_options(yield_per=batch)) as entries:
        for entry in entries:
            if entry.finding_id != current:
                broken = finish(current)
                if broken:
                    return broken
                current, expected_seq, prev, last_state = entry.finding_id, 1, GENESIS, None
            checked += 1
            if entry.seq != expected_seq:
                return ChainReport(False, checked, entry.finding_id, entry.seq,
                                   f"expected sequence number {expected_seq}, found {entry.seq}")
            if entry.from_state != last_state:
                return ChainReport(False, checked, entry.finding_id, entry.seq,
                                   f"row starts from {entry.from_state!r} but the previous row ended in {last_state!r}")
            if entry.prev_hash != prev:
                return ChainReport(False, checked, entry.finding_id, entry.seq, "previous-hash link does not match")
            if entry_hash(entry) != entry.hash:
                return ChainReport(False, checked, entry.finding_id, entry.seq, "row was altered: hash does not match")
            prev, expected_seq, last_state = entry.hash, expected_seq + 1, entry.to_state
    broken = finish(current)
    if broken:
        return broken
    logged = set(session.scalars(sa.select(AuditEntry.finding_id).distinct())) if finding_id is None else {current}
    missing = sorted(fid for fid in states if fid not in logged)
    if missing:
        return ChainReport(False, checked, missing[0], 1, "finding has no audit rows")
    return ChainReport(True, checked)
