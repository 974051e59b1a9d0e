"""Keys, anchors from the command line, records of every admin use case, roles, and verify under load."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
import sqlalchemy as sa
from audit_helpers import KEY, check, fire, history, keyed_store, owner_sql, report
from click.testing import CliRunner

from engine import admin, calendars
from engine.actors import Actor
from engine.audit.keys import KeyRing, derived_id
from engine.errors import InvalidInput
from engine.models import AuditRecord
from web.cli import main

ADMIN = Actor("root", ("admin",))


def test_key_ring_ids_rotation_and_refusals(tmp_path):
    bare = KeyRing.parse("x" * 32, "env")
    assert bare.current == derived_id("x" * 32) and bare.current.startswith("k")
    ring = KeyRing.parse("# old first\nold=" + "a" * 20 + "\n\nnew=" + "b" * 20 + "\n", "ring")
    assert ring.current == "new" and set(ring.keys) == {"old", "new"}
    with pytest.raises(InvalidInput, match="ring:1: the secret of key 'k1' is shorter than 16 bytes"):
        KeyRing.parse("k1=short", "ring")
    path = tmp_path / "audit.key"
    path.write_text("k9=" + "z" * 32 + "\n", encoding="utf-8")
    assert KeyRing.from_env({"XUNCHA_AUDIT_KEY_FILE": str(path), "XUNCHA_AUDIT_KEY": "y" * 32}).current == "k9"
    assert not KeyRing.from_env({})
    with pytest.raises(InvalidInput, match="cannot read"):
        KeyRing.from_env({"XUNCHA_AUDIT_KEY_FILE": str(tmp_path / "missing")})


@pytest.fixture
def xuncha(db_url, tmp_path):
    def run(*args, key: str | None = "k1=" + "s" * 40):
        env = {"XUNCHA_DATABASE_URL": db_url, "XUNCHA_INSTANCE": str(tmp_path / "instance"),
               "XUNCHA_AUDIT_KEY": key or ""}
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return run


def test_cli_anchor_file_and_digest_prove_a_cut_tail(db_url, tmp_path, xuncha):
    store = keyed_store(db_url, tmp_path)
    _, ids = history(store)
    out = tmp_path / "anchor.json"
    made = xuncha("audit", "anchor", "--out", str(out))
    assert made.exit_code == 0 and "rows 25 chains 7 " in made.output  # 10 finding rows, 15 record rows
    digest = made.output.split("digest ")[1].strip()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["digest"] == digest and data["rows"] == 25 and [ids[0], 5] == data["findings"][0][:2]
    assert xuncha("audit", "verify", "--anchor", digest).exit_code == 0
    fid = ids[0]
    owner_sql(store, f"DELETE FROM audit_log WHERE finding_id = {fid} AND seq = 5",
              f"UPDATE findings SET state = 'verifying', closed_at = NULL, closed_on_time = NULL, audit_seq = 4, "
              f"audit_head = (SELECT hash FROM audit_log WHERE finding_id = {fid} AND seq = 4) WHERE id = {fid}")
    by_file = xuncha("audit", "verify", "--anchor", str(out), "--all")
    assert by_file.exit_code == 1 and f"broken: finding {fid} seq 4: the anchor of {digest[:12]} covers 5" \
        in by_file.stdout and "does NOT hold" in by_file.stderr
    data["findings"][0][1] = 4  # an anchor file edited to fit the cut log no longer gives its digest
    out.write_text(json.dumps(data), encoding="utf-8")
    assert "the anchor itself was altered" in xuncha("audit", "verify", "--anchor", str(out)).output
    store.dispose()


def test_cli_says_when_only_the_plain_chain_was_checked(db_url, tmp_path, xuncha):
    store = keyed_store(db_url, tmp_path)
    history(store)
    plain = xuncha("audit", "verify", key=None)
    assert plain.stdout == "ok 10 rows\n" and "plain hash chain only: no audit key given" in plain.stderr
    keyed = xuncha("audit", "verify")
    assert keyed.exit_code == 0 and "MACs checked with the audit key (25 signed, 0 written without" in keyed.stderr
    line = xuncha("audit", "keygen", "--id", "k2").output.strip()
    assert line.startswith("k2=") and KeyRing.parse(line, "new").current == "k2"
    store.dispose()


def test_every_admin_use_case_leaves_a_record(db_url, tmp_path):
    store = keyed_store(db_url, tmp_path)
    campus, ids = history(store)
    with store.uow() as uow:
        calendars.close_days(uow, ADMIN, "2027-01-18", "寒假")
        calendars.open_days(uow, ADMIN, "2027-02-20", "调休上班")
        uow.commit()
    with store.uow() as uow:
        calendars.remove_days(uow, ADMIN, "2027-01-18")
        uow.commit()
    with store.uow() as uow:
        text = uow.session.scalar(sa.text("SELECT yaml_text FROM workflow_versions WHERE number = 1"))
        admin.load_workflows(uow, text.replace("Assign to unit", "Assign"),
                             by="root")
        admin.migrate_findings(uow, "finding", 2, {s: s for s in ("assigned", "rectifying", "closed")}, ADMIN)
        uow.commit()
    with store.uow(write=False) as uow:
        events = {(c, e) for c, e in uow.session.execute(sa.select(AuditRecord.chain, AuditRecord.event))}
    assert {("calendar", "close"), ("calendar", "open"), ("calendar", "remove"), ("workflows", "load"),
            ("workflows", "deactivate"), ("workflows", "migrate"), ("units", "create"), ("users", "create"),
            ("sanctions", "decide")} <= events
    assert check(store).ok
    owner_sql(store, "UPDATE workflow_versions SET active = (number = 1)")  # quietly restore the old rules
    found = check(store)
    assert not found.ok and found.chain == "workflows" and "active" in found.problem
    store.dispose()


def test_db_grant_leaves_the_application_role_append_only(db_url, tmp_path, xuncha):
    if not db_url.startswith("postgresql"):
        assert "PostgreSQL matter" in xuncha("db", "grant", "app").output
        return
    store = keyed_store(db_url, tmp_path)
    history(store)
    role = f"xuncha_app_{uuid.uuid4().hex[:8]}"
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role}")
    try:
        granted = xuncha("db", "grant", role)
        assert granted.exit_code == 0 and "REVOKE UPDATE, DELETE ON audit_log" in granted.output
        with store.engine.connect() as conn:
            conn.exec_driver_sql(f"SET ROLE {role}")
            assert conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == 10
            conn.exec_driver_sql("UPDATE findings SET title = title")  # everything else stays usable
            for statement in ("UPDATE audit_log SET comment = 'x'", "DELETE FROM audit_records",
                              "TRUNCATE audit_log CASCADE", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                              "SET session_replication_role = replica"):
                with pytest.raises(sa.exc.DBAPIError, match="permission denied|must be owner"):
                    with conn.begin_nested():
                        conn.exec_driver_sql(statement)
            conn.rollback()
        assert "superuser" in xuncha("db", "grant", "postgres").output
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"GRANT {conn.exec_driver_sql('SELECT current_user').scalar()} TO {role}")
        assert "owns (or is a member of the owner of) audit_" in xuncha("db", "grant", role).output
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        store.dispose()


def test_verify_during_transitions_never_reports_a_false_break(db_url, tmp_path):
    store = keyed_store(db_url, tmp_path, keys=KEY)
    campus, _ = history(store)
    ids = [report(campus, f"巡查{i}", f"学生公寓{i + 1}号楼") for i in range(20)]  # no repeats among them
    failures, done = [], threading.Event()

    def work():
        try:
            for fid in ids:
                fire(campus, fid, "assign", "inspector", {})
                fire(campus, fid, "respond", "food", {"plan": "处理"})
        finally:
            done.set()

    writer = threading.Thread(target=work)
    writer.start()
    checks = 0
    while not done.is_set() or checks == 0:
        result = check(store)
        checks += 1
        if not result.ok:
            failures.append(result)
    writer.join()
    assert failures == [] and checks > 1 and check(store).rows_checked == 10 + 20 * 3
    store.dispose()
