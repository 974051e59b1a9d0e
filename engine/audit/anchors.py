"""Anchors: a digest over every chain head at one moment, meant to be kept outside the database."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import orm

from engine.audit.chain import canonical_time
from engine.db import utcnow
from engine.errors import InvalidInput
from engine.models import AuditAnchor, AuditChain, Finding

FORMAT = "xuncha-anchor-v1"


@dataclass
class Anchor:
    """Every chain's length and head hash at `at`; `digest` commits to all of them (and so to the row count)."""

    at: datetime
    findings: list[list] = field(default_factory=list)  # [finding id, seq, head] by id
    records: list[list] = field(default_factory=list)  # [chain, seq, head] by chain
    digest: str = ""

    @property
    def rows(self) -> int:
        return sum(seq for _, seq, _ in self.findings) + sum(seq for _, seq, _ in self.records)

    def compute_digest(self) -> str:
        # A flat hash over the sorted heads does what a Merkle root would here: nobody needs inclusion proofs.
        digest = hashlib.sha256(f"{FORMAT} {canonical_time(self.at)}\n".encode())
        for fid, seq, head in self.findings:
            digest.update(f"f\t{fid}\t{seq}\t{head}\n".encode())
        for chain, seq, head in self.records:
            digest.update(f"r\t{chain}\t{seq}\t{head}\n".encode())
        return digest.hexdigest()

    def as_json(self) -> dict:
        return {"format": FORMAT, "at": canonical_time(self.at), "rows": self.rows, "digest": self.digest,
                "findings": self.findings, "records": self.records}

    @classmethod
    def from_json(cls, data: dict, origin: str) -> Anchor:
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"not an anchor file (format {data.get('format')!r})")
            anchor = cls(datetime.fromisoformat(data["at"]), [list(x) for x in data["findings"]],
                         [list(x) for x in data["records"]], str(data["digest"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"{origin}: not a readable anchor: {exc}") from None
        if anchor.compute_digest() != anchor.digest:
            raise InvalidInput(f"{origin}: the anchor's heads do not give its digest {anchor.digest}: "
                               "the anchor itself was altered")
        return anchor


def take(session: orm.Session, by: str, now: datetime | None = None) -> Anchor:
    """Record an anchor of every chain as the session's snapshot sees it (the caller commits)."""
    anchor = Anchor(now or utcnow())
    heads = (sa.select(Finding.id, Finding.audit_seq, Finding.audit_head).where(Finding.audit_seq > 0)
             .order_by(Finding.id))
    anchor.findings = [[fid, seq, head] for fid, seq, head in session.execute(heads)]
    chains = sa.select(AuditChain.chain, AuditChain.seq, AuditChain.head).where(AuditChain.seq > 0)
    anchor.records = [[c, seq, head] for c, seq, head in session.execute(chains.order_by(AuditChain.chain))]
    anchor.digest = anchor.compute_digest()
    session.add(AuditAnchor(at=anchor.at, rows=anchor.rows, digest=anchor.digest, created_by=by,
                            chains={"findings": anchor.findings, "records": anchor.records}))
    session.flush()
    return anchor


def resolve(session: orm.Session, given: str) -> Anchor:
    """An anchor from a file path or a digest; a digest is looked up in the database and must match itself."""
    path = Path(given)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{given}: cannot read the anchor file: {exc}") from None
        return Anchor.from_json(data, given)
    digest = given.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(f"{given!r} is neither an anchor file nor a 64-digit digest")
    row = session.scalars(sa.select(AuditAnchor).where(AuditAnchor.digest == digest)).first()
    if row is None:
        raise InvalidInput(f"no anchor with digest {digest} in the database: it was removed, or give the "
                           "anchor file instead")
    return Anchor.from_json({"format": FORMAT, "at": canonical_time(row.at), "digest": row.digest,
                             **row.chains}, f"anchor {digest[:12]} in the database")
