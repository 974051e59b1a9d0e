"""The attack table: what someone who owns the database can do to the log, and what finds or refuses it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from audit_helpers import (
    anchored_check,
    campus_of,
    check,
    fire,
    history,
    keyed_store,
    owner_sql,
    rehash,
    take_anchor,
)

from engine.audit.keys import KeyRing

NO_KEY = KeyRing()


@pytest.fixture
def keyed(db_url, tmp_path):
    store = keyed_store(db_url, tmp_path)
    yield (store, *history(store))
    store.dispose()


def test_a_clean_history_verifies_with_and_without_the_key(keyed):
    store, _, _ = keyed
    with_key = check(store)
    assert with_key.ok and with_key.authenticated and with_key.unsigned_rows == 0
    assert with_key.rows_checked == 5 + 2 + 2 + 1 and with_key.records_checked > 0
    plain = check(store, NO_KEY)
    assert plain.ok and not plain.authenticated


def test_edit_and_rehash_passes_the_plain_chain_but_not_the_key(keyed):
    store, _, ids = keyed
    owner_sql(store, f"UPDATE audit_log SET actor = 'ghost' WHERE finding_id = {ids[0]} AND seq = 3",
              rehash(ids[0]))
    assert check(store, NO_KEY).ok  # what the plain chain alone could promise
    found = check(store)
    assert not found.ok and (found.finding_id, found.seq) == (ids[0], 3) and "MAC" in found.problem


def test_tail_cut_with_findings_rewritten_is_found_by_the_anchor(keyed):
    store, _, ids = keyed
    anchor = take_anchor(store)
    fid = ids[0]
    owner_sql(store, f"DELETE FROM audit_log WHERE finding_id = {fid} AND seq > 3",
              f"UPDATE findings SET state = 'rectifying', closed_at = NULL, closed_on_time = NULL, "
              f"audit_seq = 3, audit_head = (SELECT hash FROM audit_log WHERE finding_id = {fid} AND seq = 3) "
              f"WHERE id = {fid}")
    # The remaining rows are genuine and signed, so without the anchor a cut tail looks like a younger finding,
    # except that the finding's columns no longer match its last row's effects.
    found = anchored_check(store, anchor)
    assert not found.ok and found.finding_id == fid and "covers 5 row(s)" in found.problem
    assert found.anchor["ok"] is False and found.anchor["digest"] == anchor.digest


def test_a_finding_deleted_with_its_rows_is_found_by_the_anchor(keyed):
    store, _, ids = keyed
    anchor = take_anchor(store)
    fid = ids[2]  # with its links, sanction link and rows: nothing else refers to it
    owner_sql(store, f"DELETE FROM finding_links WHERE finding_id = {fid}",
              f"DELETE FROM sanction_findings WHERE finding_id = {fid}",
              f"DELETE FROM audit_log WHERE finding_id = {fid}", f"DELETE FROM findings WHERE id = {fid}")
    assert check(store).ok  # nothing left to disagree with
    found = anchored_check(store, anchor)
    assert not found.ok and found.finding_id == fid and "finding is gone" in found.problem


def test_truncate_is_refused_on_postgresql_and_a_wipe_is_found_by_the_anchor(keyed):
    store, _, _ = keyed
    anchor = take_anchor(store)
    if store.dialect == "postgresql":
        for table in ("audit_log", "audit_records", "audit_anchors"):
            with pytest.raises(sa.exc.DBAPIError, match=f"{table} is append-only: TRUNCATE refused"):
                with store.engine.begin() as conn:
                    conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")
        owner_sql(store, "TRUNCATE audit_log, audit_records, findings CASCADE", replica=True)
    else:
        owner_sql(store, "DELETE FROM audit_log", "DELETE FROM audit_records", "DELETE FROM sanction_findings",
                  "DELETE FROM finding_links", "DELETE FROM notifications", "UPDATE findings SET repeat_of_id = NULL",
                  "DELETE FROM findings", "UPDATE audit_chains SET seq = 0, head = '" + "0" * 64 + "'")
    found = anchored_check(store, anchor)
    assert not found.ok and "anchor" in found.problem


@pytest.mark.parametrize("rehashed", [False, True])
def test_replica_role_bypass_is_found(keyed, rehashed):
    store, _, ids = keyed
    if store.dialect != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")
    statements = [f"UPDATE audit_log SET comment = '改过了' WHERE finding_id = {ids[0]} AND seq = 2"]
    owner_sql(store, *statements, *([rehash(ids[0])] if rehashed else []), replica=True)
    found = check(store)
    assert not found.ok and (found.finding_id, found.seq) == (ids[0], 2)
    assert ("MAC" if rehashed else "altered") in found.problem


@pytest.mark.parametrize("which, column, value", [
    (0, "overdue_count", "2"), (0, "failed_verifications", "1"), (0, "closed_on_time", "false"),
    (0, "reopenings", "1"), (0, "repeat_count", "3"), (0, "unit_id", "(SELECT id FROM units WHERE code = 'ENERGY')"),
    (1, "due_at", "NULL"), (0, "closed_at", "NULL"),
])
def test_edited_counters_are_found_by_replaying_the_log(keyed, which, column, value):
    store, _, ids = keyed
    owner_sql(store, f"UPDATE findings SET {column} = {value} WHERE id = {ids[which]}")
    found = check(store, NO_KEY)  # the replay needs no key: the columns must agree with the signed rows
    assert not found.ok and found.finding_id == ids[which] and f"finding's {column} is" in found.problem


def test_edited_sanction_is_found_in_its_chain(keyed):
    store, _, _ = keyed
    owner_sql(store, "UPDATE sanctions SET points = 0")
    found = check(store)
    assert not found.ok and found.chain == "sanctions" and "points is 0 but the log says 2" in found.problem


def test_forged_sanction_and_removed_unit_are_found(keyed):
    store, campus, _ = keyed
    unit_id = campus.actor("food").unit_id
    owner_sql(store, "INSERT INTO sanctions (unit_id, kind, points, decision, decided_by, decided_at) "
                     f"VALUES ({unit_id}, 'deduction', 5, '伪造', 'x', CURRENT_TIMESTAMP)",
              "DELETE FROM units WHERE code = 'ENERGY'")
    found = check(store, all_breaks=True)
    problems = " | ".join(b["problem"] for b in found.breaks)
    assert found.break_count == 2
    assert "not in the audit log" in problems and "gone from the table" in problems


def test_edited_record_row_with_rehash_is_found_by_its_mac(keyed):
    store, _, _ = keyed
    owner_sql(store, "UPDATE audit_records SET actor = 'ghost' WHERE chain = 'units' AND seq = 1")
    found = check(store, NO_KEY)
    assert not found.ok and found.chain == "units" and "altered" in found.problem


def test_all_reports_every_break(keyed):
    store, _, ids = keyed
    owner_sql(store, f"UPDATE findings SET overdue_count = 9 WHERE id IN ({ids[0]}, {ids[1]})",
              "UPDATE sanctions SET points = 0")
    assert check(store).break_count == 1
    every = check(store, all_breaks=True)
    assert every.break_count == 3 and len(every.breaks) == 3
    assert {b.get("finding_id") for b in every.breaks} >= {ids[0], ids[1]}


def test_rows_signed_with_a_retired_key_verify_with_the_ring_and_not_without_it(db_url, tmp_path):
    old = keyed_store(db_url, tmp_path)
    _, ids = history(old)
    old.dispose()
    ring = KeyRing.parse("k1=" + "s" * 40 + "\nk2=" + "t" * 40, "ring")  # k2 now signs, k1 still verifies
    store = keyed_store(db_url, tmp_path, keys=ring)
    fire(campus_of(store), ids[1], "escalate", "inspector", {"reason": "换钥匙后"})
    assert check(store).ok and check(store).unsigned_rows == 0
    lacking = check(store, KeyRing.parse("k2=" + "t" * 40, "new only"))
    assert not lacking.ok and "'k1', which the key ring lacks" in lacking.problem
    store.dispose()


def test_stripping_macs_is_found_with_the_key(keyed):
    store, _, ids = keyed
    owner_sql(store, f"UPDATE audit_log SET key_id = NULL, mac = NULL WHERE finding_id = {ids[0]} AND seq >= 4")
    found = check(store)
    assert not found.ok and found.seq == 4 and "no MAC although the rows before it do" in found.problem
