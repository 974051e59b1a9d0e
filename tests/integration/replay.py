"""Replay a finding's audit log into the state and counters it implies, and compare with what is stored."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from engine import audit
from engine.models import AuditEntry, Finding


def replay(rows: list[AuditEntry]) -> dict:
    """The state, version and counters a finding must have if its log is the whole truth."""
    state, failed, reopened = None, 0, 0
    for expected_seq, row in enumerate(rows, start=1):
        assert row.seq == expected_seq, f"finding {row.finding_id}: seq {row.seq} where {expected_seq} was due"
        assert row.from_state == state, (
            f"finding {row.finding_id} seq {row.seq}: starts from {row.from_state!r}, log was at {state!r}")
        if row.event == "verify" and row.to_state == "rectifying":
            failed += 1
        if row.event == "reopen":
            reopened += 1
        state = row.to_state
    return {"state": state, "version": len(rows), "failed_verifications": failed, "reopenings": reopened,
            "audit_seq": len(rows), "audit_head": rows[-1].hash if rows else audit.GENESIS}


def stored(finding: Finding) -> dict:
    return {"state": finding.state, "version": finding.version,
            "failed_verifications": finding.failed_verifications, "reopenings": finding.reopenings,
            "audit_seq": finding.audit_seq, "audit_head": finding.audit_head}


def log_of(session: orm.Session, finding_id: int) -> list[AuditEntry]:
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == finding_id)
                                .order_by(AuditEntry.seq)))


def assert_consistent(session: orm.Session, finding_id: int | None = None) -> int:
    """Every finding (or the one given) equals the replay of its log and every chain verifies; returns rows."""
    query = sa.select(Finding).order_by(Finding.id)
    if finding_id is not None:
        query = query.where(Finding.id == finding_id)
    findings = list(session.scalars(query))
    assert findings, "no finding to check"
    rows = 0
    for finding in findings:
        log = log_of(session, finding.id)
        assert log, f"finding {finding.id} has no audit rows"
        assert stored(finding) == replay(log), f"finding {finding.id} disagrees with its audit log"
        rows += len(log)
    report = audit.verify(session, finding_id)
    assert report.ok, report.as_dict()
    assert report.rows_checked == rows
    return rows
