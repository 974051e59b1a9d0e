"""Shared by the audit attack tests: a keyed campus with history, and SQL run as a database owner would."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import sqlalchemy as sa
from shipped_workflows import QUIET_WORKFLOWS, WORKFLOWS_YAML

from engine import admin, audit, records, services
from engine.actors import actor_for
from engine.audit import runs
from engine.audit.keys import KeyRing
from engine.models import AuditEntry, User
from engine.unit_of_work import Store

# tests/conftest.py by path: under a whole-suite run `conftest` may name tests/e2e/conftest.py instead.
_spec = importlib.util.spec_from_file_location("xuncha_tests_root", Path(__file__).parents[1] / "conftest.py")
_root = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_root)
Campus, build_campus = _root.Campus, _root.build_campus
KEY = KeyRing.parse("k1=" + "s" * 40, "test")
STEPS = [("assign", "inspector", {}), ("respond", "food", {"plan": "立即清理"}),
         ("rectify", "food", {"note": "已清理"}), ("verify", "inspector", {"verdict": "pass"})]


def keyed_store(db_url, tmp_path, keys=KEY) -> Store:
    store = Store(db_url, instance=tmp_path, audit_keys=keys)
    with store.uow() as uow:
        admin.load_workflows(uow, QUIET_WORKFLOWS, file=str(WORKFLOWS_YAML), by="setup")
        uow.commit()
    return store


def campus_of(store) -> Campus:
    """The campus already in the database, seen through another Store."""
    with store.uow(write=False) as uow:
        actors = {u.name: actor_for(uow.session, u) for u in uow.session.scalars(sa.select(User))}
    return Campus(store, actors, {})


def report(campus, title="一食堂地面湿滑", location="一食堂") -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location=location, unit="FOOD"))
        uow.commit()
        return f.id


def fire(campus, fid, event, who, payload):
    with campus.store.uow() as uow:
        services.advance(uow, fid, event, campus.actor(who), payload)
        uow.commit()


def history(store):
    """A campus and three findings: closed (5 rows), assigned (2 rows), reported (1 row), and a sanction."""
    campus = build_campus(store)
    # Three canteens, so no finding repeats another (recurrence adds rows of its own; see test_recurrence).
    places = (("地面湿滑", "一食堂"), ("灯管损坏", "二食堂"), ("垃圾未清", "三食堂"))
    ids = [report(campus, title, place) for title, place in places]
    for step in STEPS:
        fire(campus, ids[0], *step)
    fire(campus, ids[1], *STEPS[0])
    fire(campus, ids[2], "escalate", "inspector", {"reason": "多次督促未整改"})
    with store.uow() as uow:
        records.record_sanction(uow, campus.actor("admin"), records.SanctionDecision(
            kind="deduction", finding_ids=(ids[2],), decision="扣2分", points=2))
        uow.commit()
    return campus, ids


def check(store, keys=None, **kw):
    with store.sessions() as session:
        return audit.verify(session, keys=keys, **kw)


def anchored_check(store, anchor, keys=None):
    with store.sessions() as session:
        return audit.verify(session, keys=keys, anchor=anchor)


def take_anchor(store):
    return runs.take_anchor(store, "auditor")


def owner_sql(store, *statements, replica=False):
    """Run SQL as the database owner could: past the append-only triggers (dropped, disabled, or replica)."""
    pg = store.dialect == "postgresql"
    with store.engine.begin() as conn:
        if pg and replica:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        elif pg:
            for table in ("audit_log", "audit_records"):
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for table in ("audit_log", "audit_records"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement) if isinstance(statement, str) else statement(conn)
        if pg and not replica:
            for table in ("audit_log", "audit_records"):
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def rehash(finding_id: int):
    """A statement function: recompute the plain chain of a finding from its first row and fix its head,
    as an attacker without the audit key would after editing a row."""
    def run(conn):
        table = AuditEntry.__table__
        rows = conn.execute(sa.select(table).where(table.c.finding_id == finding_id)
                            .order_by(table.c.seq)).all()
        prev = audit.GENESIS
        for row in rows:
            values = {**row._mapping, "prev_hash": prev}
            new = audit.row_hash(**values)
            conn.execute(table.update().where(table.c.id == row.id).values(prev_hash=prev, hash=new))
            prev = new
        conn.execute(sa.text("UPDATE findings SET audit_head = :h, audit_seq = :s WHERE id = :f"),
                     {"h": prev, "s": len(rows), "f": finding_id})
    return run
