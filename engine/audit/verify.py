"""Checking the chains: hashes, MACs, heads, anchors, and the scored columns replayed from each finding's log."""
from __future__ import annotations

import contextlib
import hmac
import itertools
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine.audit.anchors import Anchor
from engine.audit.chain import GENESIS, SCORED, TRACKED, canonical, entry_hash, keys_of, record_hash
from engine.audit.keys import KeyRing, mac
from engine.models import AuditChain, AuditEntry, AuditRecord, Finding

MAX_LISTED = 1000  # breaks listed in one report; the count goes on


@dataclass
class ChainReport:
    ok: bool
    rows_checked: int
    finding_id: int | None = None
    seq: int | None = None
    problem: str | None = None
    chain: str | None = None  # a record chain's name, when the first break is in one
    scope: str = "all"
    authenticated: bool = False  # MACs were checked with the audit key
    signed_rows: int = 0
    unsigned_rows: int = 0  # rows written without a key: only their plain chain was checked
    records_checked: int = 0
    breaks: list[dict] = field(default_factory=list)
    break_count: int = 0
    anchor: dict | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class _Stop(Exception):
    """The first break was found and the caller did not ask for all of them."""


class _Verifier:
    def __init__(self, keys: KeyRing, anchor: Anchor | None, all_breaks: bool, strict: bool):
        self.keys, self.anchor, self.all_breaks, self.strict = keys, anchor, all_breaks, strict
        self.report = ChainReport(True, 0, authenticated=bool(keys))

    def broken(self, problem: str, finding_id=None, seq=None, chain=None) -> None:
        r = self.report
        if r.ok:
            r.ok, r.finding_id, r.seq, r.problem, r.chain = False, finding_id, seq, problem, chain
        r.break_count += 1
        if self.all_breaks and len(r.breaks) < MAX_LISTED:
            r.breaks.append({k: v for k, v in (("finding_id", finding_id), ("chain", chain), ("seq", seq),
                                               ("problem", problem)) if v is not None})
        if not self.all_breaks:
            raise _Stop

    def row_problem(self, row, expected: int, prev: str, recomputed: str, signed_before: bool) -> str | None:
        """What is wrong with one row of a chain (sequence, link, hash, MAC), or None."""
        if row.seq != expected:
            return f"expected sequence number {expected}, found {row.seq}"
        if row.prev_hash != prev:
            return "previous-hash link does not match"
        if recomputed != row.hash:
            return "row was altered: hash does not match"
        if row.key_id is None:
            self.report.unsigned_rows += 1
            if self.keys and (signed_before or self.strict):
                return "row carries no MAC" + (" although the rows before it do" if signed_before else "")
            return None
        self.report.signed_rows += 1
        if not self.keys:
            return None
        secret = self.keys.keys.get(row.key_id)
        if secret is None:
            return f"row is signed with audit key {row.key_id!r}, which the key ring lacks"
        if not hmac.compare_digest(mac(secret, recomputed), row.mac or ""):
            return "row's MAC does not match: it was written or changed without the audit key"
        return None

    # --- findings -------------------------------------------------------------------------------------------

    def finding(self, fid: int, finding, rows, anchored) -> None:
        expected, prev, last_state, last, first_at, known, signed = 1, GENESIS, None, None, None, None, False
        for row in rows:
            self.report.rows_checked += 1
            recomputed = entry_hash(row)
            problem = self.row_problem(row, expected, prev, recomputed, signed)
            if problem is None and row.from_state != last_state:
                problem = f"row starts from {row.from_state!r} but the previous row ended in {last_state!r}"
            if problem is None and row.effects is None and known is not None:
                problem = "row lost its record of effects"
            if problem:
                self.broken(problem, fid, row.seq)
                return
            signed = signed or row.key_id is not None
            if expected == 1:
                # An imported finding was found before it was logged: its row says when (`reported_at`).
                found = (row.payload or {}).get("reported_at") if row.event == "import" else None
                first_at = datetime.fromisoformat(found) if found else row.at
                known = {} if row.effects is not None else None  # a chain begun before effects were recorded
            if known is not None:
                known.update(row.effects)
            if anchored and expected == anchored[0] and recomputed != anchored[1]:
                self.broken(f"row {expected} differs from the anchor of {self.anchor.digest[:12]}: history "
                            "before the anchor was rewritten", fid, expected)
                return
            prev, last_state, last, expected = recomputed, row.to_state, row, expected + 1
        end = expected - 1
        if anchored and end < anchored[0]:
            self.broken(f"the anchor of {self.anchor.digest[:12]} covers {anchored[0]} row(s) of this finding; "
                        f"the log has {end}" + ("" if finding is not None else " and the finding is gone"),
                        fid, end or None)
            return
        if finding is None:
            self.broken("log rows of a finding that does not exist", fid, end)
            return
        if last is None:
            self.broken("finding has no audit rows", fid, 1)
            return
        self.replay(finding, end, prev, last_state, last, first_at, known)

    def replay(self, finding, end, head, last_state, last, first_at, known) -> None:
        """The finding's columns must be what its log implies."""
        fid = finding.id
        if finding.state != last_state:
            self.broken(f"finding is in state {finding.state!r} but its log ends in {last_state!r}", fid, end)
        elif finding.audit_seq != end or finding.audit_head != head:
            self.broken("log ends before the finding's recorded head: rows were removed"
                        if finding.audit_seq > end else "finding's recorded head does not match its log", fid, end)
        elif (finding.workflow_name, finding.workflow_version) != (last.workflow_name, last.workflow_version):
            self.broken(f"finding is on {finding.workflow_name} v{finding.workflow_version} but its log on "
                        f"{last.workflow_name} v{last.workflow_version}", fid, end)
        elif known is not None:
            if canonical(finding.created_at) != canonical(first_at):
                self.broken("finding's created_at differs from its report row", fid, 1)
                return
            for column, value in known.items():
                actual = canonical(getattr(finding, column))
                if actual != value:
                    self.broken(f"finding's {column} is {actual!r} but its log says {value!r}", fid, end)
                    return

    # --- record chains --------------------------------------------------------------------------------------

    def records(self, session: orm.Session, batch: int) -> None:
        heads = {c: (seq, head, legacy) for c, seq, head, legacy in session.execute(
            sa.select(AuditChain.chain, AuditChain.seq, AuditChain.head, AuditChain.legacy_below))}
        anchored = {c: (seq, head) for c, seq, head in (self.anchor.records if self.anchor else [])}
        latest: dict[str, dict] = {c: {} for c in TRACKED}
        query = sa.select(AuditRecord.__table__).order_by(AuditRecord.chain, AuditRecord.seq)
        seen = set()
        with session.execute(query, execution_options={"yield_per": batch}) as rows:
            for chain, group in itertools.groupby(rows, key=lambda r: r.chain):
                seen.add(chain)
                self.record_chain(chain, group, heads.get(chain), anchored.get(chain), latest.get(chain))
        for chain in sorted(set(heads) | set(anchored)):
            if chain not in seen and (heads.get(chain, (0,))[0] or chain in anchored):
                self.broken("the chain's rows are gone", chain=chain, seq=1)
        for chain, (model, columns) in TRACKED.items():
            self.compare_table(session, chain, model, columns, latest[chain], heads.get(chain, (0, "", 0))[2])

    def record_chain(self, chain, rows, head, anchored, latest) -> None:
        expected, prev, signed = 1, GENESIS, False
        for row in rows:
            self.report.records_checked += 1
            recomputed = record_hash(**row._mapping)
            problem = self.row_problem(row, expected, prev, recomputed, signed)
            if problem is None and anchored and expected == anchored[0] and recomputed != anchored[1]:
                problem = "row differs from the anchor: history before the anchor was rewritten"
            if problem:
                self.broken(problem, chain=chain, seq=row.seq)
                return
            signed = signed or row.key_id is not None
            if latest is not None and row.subject and "row" in row.payload:
                latest[row.subject] = (row.seq, row.payload["row"])
            prev, expected = recomputed, expected + 1
        end = expected - 1
        if anchored and end < anchored[0]:
            self.broken(f"the anchor covers {anchored[0]} row(s) of this chain; the log has {end}", chain=chain,
                        seq=end)
        elif head is None or (head[0], head[1]) != (end, prev):
            self.broken("the chain's recorded head does not match its log: rows were removed", chain=chain, seq=end)

    def compare_table(self, session, chain, model, columns, latest, legacy_below) -> None:
        """Every row of a tracked table must be as its chain last recorded it, and no recorded row missing."""
        table = model.__tablename__
        query = sa.select(model.id, *(getattr(model, c) for c in columns)).order_by(model.id)
        for row in session.execute(query):
            subject = f"{table}:{row.id}"
            seq, recorded = latest.pop(subject, (None, False))
            values = {c: canonical(getattr(row, c)) for c in columns}
            if recorded is False:
                if row.id >= legacy_below:
                    self.broken(f"{table} {row.id} is not in the audit log: made outside the application",
                                chain=chain)
            elif recorded is None:
                self.broken(f"{table} {row.id} was deleted in the log but exists", chain=chain, seq=seq)
            elif recorded != values:
                column = next(c for c in columns if recorded.get(c) != values[c])
                self.broken(f"{table} {row.id}: {column} is {values[column]!r} but the log says "
                            f"{recorded.get(column)!r}", chain=chain, seq=seq)
        for subject, (seq, recorded) in sorted(latest.items()):
            if recorded is not None:
                self.broken(f"{subject.replace(':', ' ')} is in the audit log but gone from the table",
                            chain=chain, seq=seq)


def verify(session: orm.Session, finding_id: int | None = None, *, first: int | None = None,
           last: int | None = None, keys: KeyRing | None = None, anchor: Anchor | None = None,
           all_breaks: bool = False, strict: bool = False, batch: int = 5000) -> ChainReport:
    """Check the log in one snapshot: every finding's chain (or `finding_id`'s, or ids first..last) and,
    for a whole check, the record chains and the tables they cover; with `anchor`, everything it covered.

    Memory stays flat in the number of findings: findings (by id) and the log (by finding, seq) are read as
    two ordered streams and merged. `keys` defaults to the session's; without a key only plain chains are
    checked, and the report says so (`authenticated` false)."""
    begin_snapshot(session)
    if finding_id is not None:
        first = last = finding_id
    whole = first is None and last is None
    checker = _Verifier(keys if keys is not None else keys_of(session), anchor if whole else None, all_breaks,
                        strict)
    checker.report.scope = "all" if whole else "finding" if finding_id is not None else "range"
    try:
        # closing(): a check stopped at its first break closes the server-side cursors at once.
        with contextlib.closing(_merged(session, first, last, checker.anchor, batch)) as merged:
            for fid, finding, rows, anchored in merged:
                checker.finding(fid, finding, rows, anchored)
        if whole:
            checker.records(session, batch)
    except _Stop:
        pass
    if checker.anchor is not None:
        checker.report.anchor = {"digest": anchor.digest, "at": anchor.at.isoformat(), "rows": anchor.rows,
                                 "ok": checker.report.ok}
    return checker.report


def begin_snapshot(session: orm.Session) -> None:
    """One consistent, read-only snapshot for the whole check (a caller's open transaction is used as it is)."""
    if session.in_transaction():
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    else:
        session.connection()  # SQLite: one read transaction (BEGIN), a snapshot from its first read in WAL mode


_FINDING_COLUMNS = (Finding.id, Finding.state, Finding.audit_seq, Finding.audit_head, Finding.workflow_name,
                    Finding.workflow_version, Finding.created_at, *(getattr(Finding, c) for c in SCORED))


def _merged(session, first, last, anchor, batch):
    """(finding id, finding row or None, its log rows, (anchored seq, head) or None) in id order."""
    findings = sa.select(*_FINDING_COLUMNS).order_by(Finding.id)
    log = sa.select(AuditEntry.__table__).order_by(AuditEntry.finding_id, AuditEntry.seq)
    if first is not None:
        findings, log = findings.where(Finding.id >= first), log.where(AuditEntry.finding_id >= first)
    if last is not None:
        findings, log = findings.where(Finding.id <= last), log.where(AuditEntry.finding_id <= last)
    options = {"yield_per": batch}
    with session.execute(findings, execution_options=options) as found, \
            session.execute(log, execution_options=options) as logged:
        groups = itertools.groupby(logged, key=lambda r: r.finding_id)
        anchored = iter(anchor.findings if anchor else ())
        f, g, a = next(found, None), next(groups, None), next(anchored, None)
        while f is not None or g is not None or a is not None:
            fid = min(x for x in (f and f.id, g and g[0], a and a[0]) if x is not None)
            finding, rows, covered = None, (), None
            if f is not None and f.id == fid:
                finding, f = f, next(found, None)
            if g is not None and g[0] == fid:
                rows = g[1]
            if a is not None and a[0] == fid:
                covered, a = (a[1], a[2]), next(anchored, None)
            yield fid, finding, rows, covered
            if rows:
                g = next(groups, None)  # skips whatever rows the check left unread
