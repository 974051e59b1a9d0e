"""The scorecard's tally is answered from ix_findings_unit_created_tally: on PostgreSQL from the index alone
(every column it reads is in the index), so it does not read the wide finding rows as findings grow."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from engine import scorecard, services

SH = ZoneInfo("Asia/Shanghai")
TALLY = "GROUP BY findings.unit_id, findings.workflow_name"


def tally_statement(campus, reader):
    """Run `reader` (a scorecard read) and return the tally statement it sent, with its parameters."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if TALLY in statement:
            seen.append((statement, parameters))

    event.listen(campus.store.engine, "before_cursor_execute", record)
    try:
        with campus.store.uow(write=False) as uow:
            reader(uow)
    finally:
        event.remove(campus.store.engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    return seen[0]


def plan(campus, statement, parameters) -> str:
    with campus.store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # A test database is small enough that reading the table is cheapest; forbid every plan that
            # reads it to see whether an index alone can answer (one that could not would still be planned
            # with a forbidden scan, and the test would name it).
            for scan in ("seqscan", "bitmapscan", "indexscan"):
                conn.exec_driver_sql(f"SET LOCAL enable_{scan} = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in rows)


@pytest.fixture
def some_findings(campus):
    with campus.store.uow() as uow:
        for i in range(3):
            services.report_finding(uow, campus.actor("inspector"), services.Report(
                title=f"问题{i}", category="卫生", location="一食堂", unit="FOOD"),
                now=datetime(2026, 3, 3 + i, 9, tzinfo=SH))
        uow.commit()


@pytest.mark.parametrize("read", ["unit", "ranking"])
def test_the_tally_reads_the_covering_index(campus, some_findings, read):
    month = (date(2026, 3, 1), date(2026, 3, 31))
    actor = campus.actor("leader")
    if read == "unit":
        statement, parameters = tally_statement(campus, lambda uow: scorecard.unit_scorecard(uow, actor, "FOOD",
                                                                                             *month))
    else:
        statement, parameters = tally_statement(campus, lambda uow: scorecard.ranking(uow, actor, *month))
    text = plan(campus, statement, parameters)
    if campus.store.engine.dialect.name == "postgresql":
        assert "Index Only Scan using ix_findings_unit_created_tally" in text, text
    else:
        assert "ix_findings_unit_created_tally" in text, text


def test_postgresql_connections_do_not_jit(campus):
    with campus.store.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("JIT is PostgreSQL's")
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
