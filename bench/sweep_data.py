"""Bulk-made findings for the sweep benchmark: mostly closed, some open, a set number past their due time."""
from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from contenders import WORKFLOWS_YAML

from engine import admin, audit
from engine.models import Finding, User
from engine.unit_of_work import Store

GENESIS = audit.GENESIS
CHUNK = 100_000  # rows per temporary chain table, so the bulk insert's working set stays small
OPEN_EVERY = 10  # one finding in ten is still open (the rest are closed), besides the due ones
# The happy path every bulk finding has walked part of: (event, from, to, actor, role, payload).
STEPS = (
    ("report", None, "reported", "inspector", "inspector", {}),
    ("assign", "reported", "assigned", "inspector", "inspector", {}),
    ("respond", "assigned", "rectifying", "food", "centre", {"plan": "replace the broken tiles"}),
    ("rectify", "rectifying", "verifying", "food", "centre", {"note": "tiles replaced and grouted"}),
    ("verify", "verifying", "closed", "inspector", "inspector", {"verdict": "pass"}),
)
CLOSED, OPEN, DUE = 0, 1, 2  # groups; how far along STEPS each has come (L) is in `length` below
# closed: the whole path; open: reported .. verifying; due: assigned or rectifying (both escalate when overdue).
LENGTH = f"CASE grp WHEN {CLOSED} THEN 5 WHEN {OPEN} THEN 1 + g % 4 ELSE 2 + g % 2 END"
# When each group walked its steps, relative to the batch's `now`: step k at start + (k - 1) * gap.
# Sweep r of a batch runs REP_GAP after sweep r - 1; group r falls due in the REP_GAP before it. Open findings
# fall due 20 hours on at the earliest, so at most 20h / REP_GAP groups.
REP_GAP = timedelta(hours=4)
MAX_REPEAT = 4
STARTS = {CLOSED: (timedelta(days=-60), timedelta(days=1)), OPEN: (timedelta(days=-1), timedelta(hours=1)),
          DUE: (timedelta(days=-12), timedelta(hours=2))}


def prepare(store: Store) -> None:
    """The shipped workflows.yaml (rules included, as in production) and the units and users the rows name."""
    with store.uow() as uow:
        admin.load_workflows(uow, WORKFLOWS_YAML.read_text(encoding="utf-8"), file="workflows.yaml", by="bench")
        uow.commit()
    with store.uow() as uow:
        admin.create_unit(uow, "GAD", "总务部")
        admin.create_unit(uow, "FOOD", "饮食服务中心", parent="GAD")
        admin.create_user(uow, "inspector", ["inspector"])
        admin.create_user(uow, "food", ["centre"], unit="FOOD")
        uow.commit()


def _body(k: int) -> tuple[str, str, str]:
    """engine.audit.row_hash's canonical JSON of step k, cut around the finding id, the time and the prev hash."""
    event, from_state, to_state, actor, role, payload = STEPS[k - 1]
    body = json.dumps([0, k, event, from_state, to_state, actor, role, "@T@", payload, None, "finding", 1, "@P@"],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert body.startswith("[0,")
    before_time, rest = body[2:].split("@T@")
    before_prev, tail = rest.split("@P@")
    return before_time, before_prev, tail


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sweep_time(now: datetime, rep: int) -> datetime:
    """When sweep number `rep` (0, 1, ...) over a batch made at `now` runs: exactly its share is due then."""
    return now + rep * REP_GAP


class Batch:
    """SQL for one batch of `count` findings after id `lo`: `due` x `repeat` of them, spread evenly over the
    batch, fall due in `repeat` groups, group r just before sweep_time(now, r) (group 0 overdue at `now`)."""

    def __init__(self, dialect: str, lo: int, count: int, due: int, now: datetime, repeat: int = 1):
        self.dialect, self.lo, self.count, self.due, self.now = dialect, lo, count, due * repeat, now
        self.repeat = repeat
        self.every = max(1, count // self.due) if self.due else 0
        self.times = {(grp, k): now + start + (k - 1) * gap for grp, (start, gap) in STARTS.items()
                      for k in range(1, 6)}

    def sha(self, expr: str) -> str:
        if self.dialect == "postgresql":
            return f"encode(sha256(convert_to({expr}, 'UTF8')), 'hex')"
        return f"sha256hex({expr})"

    def hours(self, expr: str) -> str:
        """`now` plus `expr` hours, per row."""
        if self.dialect == "postgresql":
            return f"(CAST(:now AS timestamptz) + ({expr}) * interval '1 hour')"
        return f"plus_hours({expr})"

    def at(self, k: int, canonical: bool = False) -> str:
        """Step k's time for the row's group: as a bound value, or as the text the hash covers."""
        def value(grp):
            return _quote(audit.canonical_time(self.times[grp, k])) if canonical else f":t{grp}_{k}"
        return f"CASE grp WHEN {CLOSED} THEN {value(CLOSED)} WHEN {OPEN} THEN {value(OPEN)} ELSE {value(DUE)} END"

    def params(self) -> dict:
        def bind(at: datetime):
            return at if self.dialect == "postgresql" else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        values = {f"t{grp}_{k}": bind(at) for (grp, k), at in self.times.items()}
        if self.dialect == "postgresql":
            values["now"] = self.now
        return values

    def chain_table(self, a: int, b: int) -> str:
        """A temporary table of ids a..b with their group, path length and the hash of every row of their chain."""
        series = ("SELECT g FROM generate_series({a}, {b}) g" if self.dialect == "postgresql" else
                  "WITH RECURSIVE n(g) AS (SELECT {a} UNION ALL SELECT g + 1 FROM n WHERE g < {b}) SELECT g FROM n")
        due = (f"(g - {self.lo}) % {self.every} = 0 AND (g - {self.lo}) / {self.every} <= {self.due}"
               if self.due else "0 = 1")
        ctes = [f"s AS (SELECT g, CASE WHEN {due} THEN {DUE} WHEN g % {OPEN_EVERY} = 3 THEN {OPEN}"
                f" ELSE {CLOSED} END AS grp FROM ({series.format(a=a, b=b)}) AS series)",
                f"c0 AS (SELECT g, grp, {LENGTH} AS l, {_quote(GENESIS)} AS h0 FROM s)"]
        for k in range(1, 6):
            before_time, before_prev, tail = _body(k)
            body = (f"'[' || g || {_quote(before_time)} || {self.at(k, canonical=True)} || {_quote(before_prev)}"
                    f" || h{k - 1} || {_quote(tail)}")
            ctes.append(f"c{k} AS (SELECT c{k - 1}.*, CASE WHEN l >= {k} THEN {self.sha(body)} END AS h{k}"
                        f" FROM c{k - 1})")
        return f"CREATE TEMPORARY TABLE bulk AS WITH {', '.join(ctes)} SELECT * FROM c5"

    def findings_insert(self, unit: int, reporter: int) -> str:
        state = "CASE l " + " ".join(f"WHEN {k} THEN {_quote(STEPS[k - 1][2])}" for k in range(1, 6)) + " END"
        at_l = "CASE l " + " ".join(f"WHEN {k} THEN {self.at(k)}" for k in range(1, 6)) + " END"
        head = "CASE l " + " ".join(f"WHEN {k} THEN h{k}" for k in range(1, 6)) + " END"
        # Open: due in 1 to 9 days, reminded 4 hours before; due: 1 to 48 hours late, reminder already sent.
        # Group 0 is 1 to 48 hours late; group r > 0 falls due in the 3.4 hours before its sweep.
        gap, rep = REP_GAP.total_seconds() / 3600, f"(((g - {self.lo}) / {self.every} - 1) % {self.repeat})"
        late = f"{rep} * {gap} - (1 + g % 48) * (CASE WHEN {rep} = 0 THEN 1 ELSE 0.07 END)"
        due_at = f"CASE grp WHEN {OPEN} THEN {self.hours('24 + g % 200')} WHEN {DUE} THEN {self.hours(late)} END"
        remind_at = (f"CASE grp WHEN {OPEN} THEN {self.hours('20 + g % 200')}"
                     f" WHEN {DUE} THEN {self.hours(late + ' - 8')} END")
        sweep_at = f"CASE grp WHEN {OPEN} THEN {self.hours('20 + g % 200')} WHEN {DUE} THEN {self.hours(late)} END"
        true = "true" if self.dialect == "postgresql" else "1"
        columns = {
            "id": "g", "title": "'bulk finding ' || g", "description": "''",
            "category": "CASE g % 3 WHEN 0 THEN 'hygiene' WHEN 1 THEN 'safety' ELSE 'facilities' END",
            "location": "'canteen ' || (g % 97) || ' kitchen'", "unit_id": str(unit), "source": "'department'",
            "severity": "'normal'", "reporter_id": str(reporter), "workflow_name": "'finding'",
            "workflow_version": "1", "state": state, "version": "l", "state_entered_at": at_l,
            "due_at": due_at, "remind_at": remind_at, "failed_verifications": "0", "reopenings": "0",
            "overdue_count": "0", "repeat_count": "0", "created_at": self.at(1), "updated_at": at_l,
            "closed_at": f"CASE grp WHEN {CLOSED} THEN {self.at(5)} END", "sweep_at": sweep_at,
            "closed_on_time": f"CASE grp WHEN {CLOSED} THEN {true} END", "audit_seq": "l", "audit_head": head,
        }
        return (f"INSERT INTO findings ({', '.join(columns)}) SELECT {', '.join(columns.values())}"
                " FROM bulk ORDER BY g")

    def audit_insert(self, k: int) -> str:
        event, from_state, to_state, actor, role, payload = STEPS[k - 1]
        values = [f"{k}", _quote(event), _quote(from_state) if from_state else "NULL", _quote(to_state),
                  _quote(actor), _quote(role), self.at(k), _quote(json.dumps(payload)), "NULL", "'finding'", "1",
                  f"h{k - 1}", f"h{k}"]
        return ("INSERT INTO audit_log (finding_id, seq, event, from_state, to_state, actor, role, at, payload,"
                " comment, workflow_name, workflow_version, prev_hash, hash)"
                f" SELECT g, {', '.join(values)} FROM bulk WHERE l >= {k} ORDER BY g")


def grow(url: str, total: int, due: int, now: datetime, repeat: int = 1) -> tuple[int, float]:
    """Bulk-insert findings (and their audit chains) until `total` are stored, `due` of the new ones due at
    sweep_time(now, r) for each r < `repeat`; (rows added, seconds taken)."""
    if not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be 1 to {MAX_REPEAT}, not {repeat}")
    start = time.perf_counter()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(sa.select(sa.func.count(Finding.id)))
        lo = conn.scalar(sa.select(sa.func.max(Finding.id))) or 0
        unit = conn.scalar(sa.text("SELECT id FROM units WHERE code = 'FOOD'"))
        reporter = conn.scalar(sa.select(User.id).where(User.name == "inspector"))
    count = total - have
    if count <= 0:
        engine.dispose()
        return 0, 0.0
    batch = Batch(engine.dialect.name, lo, count, min(due, count // repeat), now, repeat)
    params = batch.params()
    with engine.begin() as conn:
        if batch.dialect == "sqlite":
            raw = conn.connection.dbapi_connection
            raw.create_function("sha256hex", 1, lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest(),
                                deterministic=True)
            raw.create_function("plus_hours", 1, lambda h: (now + timedelta(hours=h)).astimezone(UTC)
                                .strftime("%Y-%m-%d %H:%M:%S.%f"), deterministic=True)
        for a in range(lo + 1, lo + count + 1, CHUNK):
            b = min(a + CHUNK - 1, lo + count)
            conn.exec_driver_sql("DROP TABLE IF EXISTS bulk")
            conn.execute(sa.text(batch.chain_table(a, b)))
            conn.execute(sa.text(batch.findings_insert(unit, reporter)), params)
            for k in range(1, 6):
                conn.execute(sa.text(batch.audit_insert(k)), params)
        conn.exec_driver_sql("DROP TABLE IF EXISTS bulk")
        if batch.dialect == "postgresql":
            conn.exec_driver_sql("SELECT setval('findings_id_seq', (SELECT max(id) FROM findings))")
    # Settle the table as a long-lived database would be: autovacuum has run (PostgreSQL; it would otherwise
    # start during the sweep), or a routine ANALYZE (SQLite).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if batch.dialect == "postgresql" else "ANALYZE")
    engine.dispose()
    return count, time.perf_counter() - start
