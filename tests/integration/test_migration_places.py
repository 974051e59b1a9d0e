"""The places migration keeps every free-text round name: each becomes a round its findings link to."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from engine.migrations import upgrade

PG_ADMIN_URL = os.environ.get("XUNCHA_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite"] + ([] if os.environ.get("XUNCHA_SKIP_PG") == "1" else ["postgresql"])
FINDING = ("INSERT INTO findings (title, description, category, location, unit_id, source, severity, "
           "inspection_round, workflow_name, workflow_version, state, version, state_entered_at, "
           "failed_verifications, reopenings, overdue_count, repeat_count, created_at, updated_at, audit_seq, "
           "audit_head) VALUES (:title, '', '卫生', '一食堂', :unit, :source, 'normal', :round, 'finding', 1, "
           "'reported', 1, :at, 0, 0, 0, 0, :at, :at, 0, '0')")


@pytest.fixture(params=BACKENDS)
def before_places(request, tmp_path):
    """A database migrated only up to the revision before places (fresh, as a deployment upgrading would be)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"xuncha_mig_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def test_round_names_become_rounds_and_sources_become_who_found_it(before_places):
    upgrade(before_places, "0003_loop")
    engine = sa.create_engine(before_places)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO units (id, code, name, created_at) VALUES "
                             "(1, 'FOOD', '饮食服务中心', '2026-01-01'), (2, 'PROP', '物业服务中心', '2026-01-01')"))
        for title, unit, source, name, day in (
                ("甲", 1, "department", "2026年第3周常规巡查", "2026-01-13"),
                ("乙", 2, "department", "2026年第3周常规巡查", "2026-01-15"),
                ("丙", 1, "self_inspection", "2026年1月中心自查", "2026-01-20"),
                ("丁", 2, "self_inspection", "2026年1月中心自查", "2026-01-21"),
                ("戊", 2, "public", None, "2026-01-22")):
            conn.execute(sa.text(FINDING), {"title": title, "unit": unit, "source": source, "round": name,
                                            "at": f"{day} 02:00:00+00:00"})
    engine.dispose()
    upgrade(before_places)
    engine = sa.create_engine(before_places)
    with engine.connect() as conn:
        rounds = {(r.name, r.level, r.unit_id): r for r in conn.execute(sa.text(
            "SELECT id, name, level, unit_id, state FROM inspection_rounds"))}
        findings = {f.title: f for f in conn.execute(sa.text(
            "SELECT title, found_by, round_id, inspection_round FROM findings"))}
    engine.dispose()
    assert set(rounds) == {("2026年第3周常规巡查", "department", None), ("2026年1月中心自查", "centre", 1),
                           ("2026年1月中心自查", "centre", 2)}
    assert {r.state for r in rounds.values()} == {"done"}
    weekly = rounds[("2026年第3周常规巡查", "department", None)].id
    assert (findings["甲"].round_id, findings["乙"].round_id) == (weekly, weekly)
    assert findings["丙"].round_id == rounds[("2026年1月中心自查", "centre", 1)].id
    assert findings["丁"].round_id == rounds[("2026年1月中心自查", "centre", 2)].id
    assert findings["丁"].inspection_round == "2026年1月中心自查"  # the text stays too
    assert [findings[t].found_by for t in "甲丙戊"] == ["department", "centre", "public"]
    assert findings["戊"].round_id is None
