"""Running checks and anchors against a Store: each in its own snapshot; full runs are kept for the API."""
from __future__ import annotations

import sqlalchemy as sa

from engine.audit import anchors
from engine.audit.anchors import Anchor
from engine.audit.verify import ChainReport, verify
from engine.db import utcnow
from engine.models import AuditEntry, AuditRun


def check(store, *, finding_id: int | None = None, first: int | None = None, last: int | None = None,
          anchor: str | None = None, all_breaks: bool = False, strict: bool = False,
          save: bool = False) -> ChainReport:
    """Verify in a fresh read-only snapshot; `anchor` is a file path or a digest; `save` keeps a full run."""
    given = None
    if anchor:
        with store.sessions() as session:
            given = anchors.resolve(session, anchor)
    with store.sessions() as session:
        report = verify(session, finding_id, first=first, last=last, anchor=given, all_breaks=all_breaks,
                        strict=strict)
    if save and report.scope == "all":
        with store.uow() as uow:
            uow.session.add(AuditRun(at=utcnow(), ok=report.ok, report=report.as_dict()))
            uow.commit()
    return report


def last_run(session) -> AuditRun | None:
    return session.scalars(sa.select(AuditRun).order_by(AuditRun.at.desc(), AuditRun.id.desc()).limit(1)).first()


def log_size(session) -> int:
    """About how many rows the log holds (its highest id: an index lookup, not a count)."""
    return session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0


def take_anchor(store, by: str) -> Anchor:
    """Record an anchor of every chain head, read in one snapshot, and return it."""
    with store.uow() as uow:
        if store.dialect == "postgresql":  # heads of findings and record chains as of one moment
            uow.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        anchor = anchors.take(uow.session, by)
        uow.commit()
    return anchor
