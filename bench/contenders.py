"""The engine and the raw-driver baseline, each advancing its own findings one transaction at a time."""
from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
import yaml
from psycopg.types.json import Json

from engine import admin, services
from engine.actors import actor_for
from engine.audit.keys import KeyRing
from engine.models import User
from engine.unit_of_work import Store

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_YAML = ROOT / "workflows.yaml"

# One pass returns every finding to `rectifying`, so a run can go on over a fixed set of findings.
CYCLE = [
    ("rectify", {"note": "replaced the broken tiles"}, "food"),
    ("verify", {"verdict": "fail", "note": "grout still missing"}, "inspector"),
    ("rectify", {"note": "grouted"}, "food"),
    ("verify", {"verdict": "pass"}, "inspector"),
    ("reopen", {"reason": "tiles broken again"}, "inspector"),
]
# (from state, to state, counter) per step of CYCLE, and the due/remind times of each state the raw baseline
# writes (plain hours: the working-time calendar is engine logic, not database work).
RAW_STEPS = [("rectifying", "verifying", None), ("verifying", "rectifying", "failed_verifications"),
             ("rectifying", "verifying", None), ("verifying", "closed", None),
             ("closed", "rectifying", "reopenings")]
RAW_DUE = {"rectifying": (timedelta(days=7), timedelta(days=1)), "verifying": (timedelta(days=2), timedelta(hours=4))}


def step(k: int, count: int) -> tuple[int, int]:
    """Advance number k of a contender with `count` findings: (finding index, CYCLE index)."""
    return k % count, (k // count) % len(CYCLE)


def bench_workflows() -> str:
    """workflows.yaml without its recurrence rules, which would escalate a finding after its second verify-fail
    or reopen and so break the repeating cycle; they cost one dict lookup per advance when absent."""
    tree = yaml.safe_load(WORKFLOWS_YAML.read_text(encoding="utf-8"))
    for workflow in tree["workflows"].values():
        for rule in ("repeat_found", "repeat_failed", "not_fixed"):
            workflow.get("rules", {}).pop(rule, None)
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


def prepare(store: Store, count: int) -> tuple[dict, list[int]]:
    """Campus, workflow and `count` findings brought to `rectifying` through the engine; (actors, ids)."""
    with store.uow() as uow:
        admin.load_workflows(uow, bench_workflows(), file="workflows.yaml (bench)", by="bench")
        uow.commit()
    with store.uow() as uow:
        admin.create_unit(uow, "GAD", "总务部")
        admin.create_unit(uow, "FOOD", "饮食服务中心", parent="GAD")
        admin.create_user(uow, "inspector", ["inspector"])
        admin.create_user(uow, "food", ["centre"], unit="FOOD")
        uow.commit()
    with store.uow(write=False) as uow:
        actors = {u.name: actor_for(uow.session, u) for u in uow.session.scalars(sa.select(User))}
    ids = []
    with store.uow() as uow:
        for i in range(count):
            report = services.Report(title=f"bench finding {i}", category="hygiene", location=f"canteen {i}",
                                     unit="FOOD", source="department")
            ids.append(services.report_finding(uow, actors["inspector"], report).id)
        uow.commit()
    for fid in ids:
        for event, payload, who in (("assign", {}, "inspector"), ("respond", {"plan": "fix it"}, "food")):
            with store.uow() as uow:
                services.advance(uow, fid, event, actors[who], payload)
                uow.commit()
    return actors, ids


class EngineContender:
    name = "engine"

    def __init__(self, store: Store, actors: dict, ids: list[int]):
        self.store, self.actors, self.ids, self.k = store, actors, ids, 0

    def run(self, n: int) -> None:
        store, actors, ids, count = self.store, self.actors, self.ids, len(self.ids)
        for k in range(self.k, self.k + n):
            index, s = step(k, count)
            event, payload, who = CYCLE[s]
            with store.uow() as uow:
                services.advance(uow, ids[index], event, actors[who], payload)
                uow.commit()
        self.k += n

    def close(self) -> None:
        pass


def chain_hash(fid: int, seq: int, event: str, from_state: str, to_state: str, actor: str, role: str,
               at: datetime, payload: dict, workflow_name: str, workflow_version: int, prev: str,
               effects: dict) -> str:
    # The engine's canonical form (engine.audit.row_hash), written out here so the baseline owes it nothing.
    body = json.dumps([fid, seq, event, from_state, to_state, actor, role, canonical_time(at), payload, None,
                       workflow_name, workflow_version, prev, effects],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def canonical_time(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


def row_effects(old: dict, new: dict) -> dict:
    """The scored columns an advance changes, with their canonical new values, as the engine records them
    (engine.audit.effects): of the scored columns the step writes, those that differ from the row's."""
    return {k: canonical_time(v) if isinstance(v, datetime) else v for k, v in new.items() if v != old[k]}


# The row as the advance finds it: its state and chain head, and the old values of the scored columns it writes.
SELECT = ("SELECT state, version, audit_seq, audit_head, workflow_name, workflow_version, failed_verifications,"
          " reopenings, overdue_count, due_at, closed_at, closed_on_time FROM findings WHERE id = {p}")
# closed_on_time changes only on closing (a NULL parameter keeps it), like the engine's.
UPDATE = ("UPDATE findings SET state = {p}, version = {p}, state_entered_at = {p}, due_at = {p}, remind_at = {p},"
          " closed_at = {p}, updated_at = {p}, failed_verifications = {p}, reopenings = {p}, audit_seq = {p},"
          " audit_head = {p}, sweep_at = {p}, closed_on_time = COALESCE({p}, closed_on_time) WHERE id = {p}")
INSERT = ("INSERT INTO audit_log (finding_id, seq, event, from_state, to_state, actor, role, at, payload, comment,"
          " workflow_name, workflow_version, prev_hash, hash, effects, key_id, mac) VALUES ({p}, {p}, {p}, {p},"
          " {p}, {p}, {p}, {p}, {p}, NULL, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
ROLES = {"inspector": "inspector", "food": "centre"}


class RawContender:
    """The same reads and writes per advance as the engine, straight through the DB-API driver: the audit row
    carries the scored columns the advance changed (`effects`) and, with an audit key configured
    (XUNCHA_AUDIT_KEY[_FILE], as the engine's Store reads it), the key's id and the row's HMAC."""

    name = "raw"

    def __init__(self, url: str, ids: list[int], keys: KeyRing | None = None):
        self.ids, self.k = ids, 0
        keys = keys if keys is not None else KeyRing.from_env()
        self.key_id = keys.current
        self.secret = keys.keys[keys.current] if keys.current else None
        database = sa.engine.make_url(url)
        if database.get_backend_name() == "sqlite":
            self.sqlite = True
            self.conn = sqlite3.connect(database.database, isolation_level=None, timeout=30)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.begin, p = "BEGIN IMMEDIATE", "?"
            self.select = SELECT.format(p=p)
        else:
            self.sqlite = False
            self.conn = psycopg.connect(host=database.host, port=database.port, user=database.username,
                                        password=database.password, dbname=database.database, autocommit=True)
            self.begin, p = "BEGIN", "%s"
            self.select = SELECT.format(p=p) + " FOR UPDATE"
        self.update, self.insert = UPDATE.format(p=p), INSERT.format(p=p)

    def _time(self, at: datetime | None):
        # SQLite keeps naive UTC text, as SQLAlchemy writes it; PostgreSQL takes the aware datetime.
        if at is None or not self.sqlite:
            return at
        return at.replace(tzinfo=None).isoformat(" ", "microseconds")

    def _read_time(self, value):
        if value is None or not self.sqlite:
            return value
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def _json(self, value: dict):
        return json.dumps(value) if self.sqlite else Json(value)

    def run(self, n: int) -> None:
        conn, ids, count, t = self.conn, self.ids, len(self.ids), self._time
        for k in range(self.k, self.k + n):
            index, s = step(k, count)
            event, payload, who = CYCLE[s]
            from_state, to_state, counter = RAW_STEPS[s]
            fid, now = ids[index], datetime.now(UTC)
            cur = conn.cursor()
            cur.execute(self.begin)
            try:
                cur.execute(self.select, (fid,))
                (state, version, seq, head, wf_name, wf_version, failed, reopened, overdue, old_due, old_closed,
                 old_on_time) = cur.fetchone()
                if state != from_state:
                    raise RuntimeError(f"finding {fid} is {state}, expected {from_state}")
                old_due, old_closed = self._read_time(old_due), self._read_time(old_closed)
                old = {"due_at": old_due, "closed_at": old_closed, "failed_verifications": failed,
                       "reopenings": reopened,
                       "closed_on_time": None if old_on_time is None else bool(old_on_time)}
                new = dict(old, failed_verifications=failed + (counter == "failed_verifications"),
                           reopenings=reopened + (counter == "reopenings"), due_at=None,
                           closed_at=now if to_state == "closed" else None)
                remind = None
                if to_state in RAW_DUE:
                    new["due_at"] = now + RAW_DUE[to_state][0]
                    remind = new["due_at"] - RAW_DUE[to_state][1]
                if to_state == "closed":
                    new["closed_on_time"] = overdue == 0 and (old_due is None or now <= old_due)
                effects = row_effects(old, new)
                new_hash = chain_hash(fid, seq + 1, event, from_state, to_state, who, ROLES[who], now, payload,
                                      wf_name, wf_version, head, effects)
                mac = (hmac.new(self.secret, new_hash.encode("ascii"), hashlib.sha256).hexdigest()
                       if self.secret else None)
                cur.execute(self.update, (to_state, version + 1, t(now), t(new["due_at"]), t(remind),
                                          t(new["closed_at"]), t(now), new["failed_verifications"],
                                          new["reopenings"], seq + 1, new_hash, t(remind or new["due_at"]),
                                          new["closed_on_time"] if to_state == "closed" else None, fid))
                cur.execute(self.insert, (fid, seq + 1, event, from_state, to_state, who, ROLES[who], t(now),
                                          self._json(payload), wf_name, wf_version, head, new_hash,
                                          self._json(effects), self.key_id, mac))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        self.k += n

    def close(self) -> None:
        self.conn.close()
