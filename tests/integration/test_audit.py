"""The audit chain: it verifies after real work, the database refuses edits, and tampering is found anyway."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import audit, services
from engine.models import AuditEntry, Finding

STEPS = [("assign", "inspector", {}), ("respond", "food", {"plan": "立即清理"}),
         ("rectify", "food", {"note": "已清理"}), ("verify", "inspector", {"verdict": "pass"})]


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


@pytest.fixture
def history(campus):
    """Three findings: one closed (5 rows), one assigned (2 rows), one just reported (1 row)."""
    # Three canteens, so no finding repeats another (recurrence adds rows of its own; see test_recurrence).
    ids = [report(campus, t, p) for t, p in (("地面湿滑", "一食堂"), ("灯管损坏", "二食堂"), ("垃圾未清", "三食堂"))]
    for step in STEPS:
        fire(campus, ids[0], *step)
    fire(campus, ids[1], *STEPS[0])
    return campus, ids


def verify(store, finding_id=None):
    with store.uow(write=False) as uow:
        return audit.verify(uow.session, finding_id)


def tamper(store, *statements):
    """Run SQL past the append-only triggers, as someone with direct database access could.

    On PostgreSQL the trigger is disabled and re-enabled inside one transaction, so a failing statement
    rolls the DISABLE back too and the shared test database never stays unprotected.
    """
    pg = store.dialect == "postgresql"
    with store.engine.begin() as conn:
        if pg:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for statement in statements:
            conn.exec_driver_sql(statement)
        if pg:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def test_verify_ok_counts_every_row(history):
    campus, ids = history
    report_ = verify(campus.store)
    assert report_.ok and report_.rows_checked == 5 + 2 + 1
    assert {k: report_.as_dict()[k] for k in ("ok", "rows_checked")} == {"ok": True, "rows_checked": 8}
    one = verify(campus.store, ids[1])
    assert one.ok and one.rows_checked == 2


def test_verify_on_an_empty_log(store):
    assert verify(store).ok and verify(store).rows_checked == 0


def test_rows_chain_by_hash(history):
    campus, ids = history
    with campus.store.uow(write=False) as uow:
        rows = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == ids[0])
                                   .order_by(AuditEntry.seq)).all()
        finding = uow.session.get(Finding, ids[0])
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        assert finding.audit_head == rows[-1].hash and finding.audit_seq == 5


@pytest.mark.parametrize("statement, op", [
    ("UPDATE audit_log SET comment = 'edited' WHERE seq = 1", "UPDATE"),
    ("DELETE FROM audit_log WHERE seq = 2", "DELETE"),
])
def test_database_refuses_to_change_the_log(history, statement, op):
    campus, _ = history
    with pytest.raises(sa.exc.DBAPIError) as caught:
        with campus.store.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert "audit_log is append-only" in str(caught.value) and f"{op} refused" in str(caught.value)
    assert verify(campus.store).rows_checked == 8


def test_orm_cannot_edit_a_row_either(history):
    campus, ids = history
    with campus.store.uow() as uow:
        row = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == ids[0])).first()
        row.actor = "someone else"
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            uow.commit()
    assert verify(campus.store).ok


def test_edited_payload_is_found(history):
    campus, ids = history
    tamper(campus.store, f"UPDATE audit_log SET payload = '{{\"plan\": \"改过的计划\"}}' "
                         f"WHERE finding_id = {ids[0]} AND seq = 3")
    result = verify(campus.store)
    assert not result.ok
    assert (result.finding_id, result.seq) == (ids[0], 3)
    assert "altered" in result.problem


def test_trigger_is_back_after_tampering(history):
    campus, ids = history
    tamper(campus.store, f"UPDATE audit_log SET comment = 'x' WHERE finding_id = {ids[2]}")
    if campus.store.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with campus.store.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE audit_log SET comment = 'y'")


def test_deleted_last_row_is_found(history):
    campus, ids = history
    tamper(campus.store, f"DELETE FROM audit_log WHERE finding_id = {ids[0]} AND seq = 5")
    result = verify(campus.store)
    assert not result.ok and result.finding_id == ids[0] and result.seq == 4
    assert "closed" in result.problem  # the finding says closed, the log now ends in verifying


def test_deleted_last_row_with_state_put_back_is_found(history):
    campus, ids = history
    tamper(campus.store, f"DELETE FROM audit_log WHERE finding_id = {ids[0]} AND seq = 5",
           f"UPDATE findings SET state = 'verifying' WHERE id = {ids[0]}")
    result = verify(campus.store)
    assert not result.ok and (result.finding_id, result.seq) == (ids[0], 4)
    assert "removed" in result.problem


def test_deleted_middle_row_is_found(history):
    campus, ids = history
    tamper(campus.store, f"DELETE FROM audit_log WHERE finding_id = {ids[0]} AND seq = 2")
    result = verify(campus.store)
    assert not result.ok and (result.finding_id, result.seq) == (ids[0], 3)
    assert "sequence" in result.problem


def test_changed_finding_state_is_found(history):
    campus, ids = history
    tamper(campus.store, f"UPDATE findings SET state = 'closed' WHERE id = {ids[1]}")
    result = verify(campus.store)
    assert not result.ok and (result.finding_id, result.seq) == (ids[1], 2)
    assert "'closed'" in result.problem and "'assigned'" in result.problem


def test_finding_with_its_whole_log_removed_is_found(history):
    campus, ids = history
    tamper(campus.store, f"DELETE FROM audit_log WHERE finding_id = {ids[2]}")
    result = verify(campus.store)
    assert not result.ok and (result.finding_id, result.seq) == (ids[2], 1)
    assert "no audit rows" in result.problem


def test_verifying_one_finding_ignores_others(history):
    campus, ids = history
    tamper(campus.store, f"UPDATE audit_log SET actor = 'ghost' WHERE finding_id = {ids[0]} AND seq = 2")
    assert verify(campus.store, ids[1]).ok
    broken = verify(campus.store, ids[0])
    assert not broken.ok and broken.seq == 2
