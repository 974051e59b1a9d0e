"""The `xuncha` command on both databases: init, units, users, lint, workflow versions, audit verify."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import admin, services
from engine.models import Finding
from engine.unit_of_work import Store
from web.cli import main

SHIPPED = Path(__file__).resolve().parents[2] / "workflows.yaml"


@pytest.fixture
def workflows_file(tmp_path) -> Path:
    path = tmp_path / "workflows.yaml"
    shutil.copy(SHIPPED, path)
    return path


@pytest.fixture
def xuncha(db_url, tmp_path, workflows_file):
    """Run `xuncha ARGS...` against the test database; returns click's Result."""
    runner = CliRunner()
    env = {"XUNCHA_DATABASE_URL": db_url, "XUNCHA_WORKFLOWS": str(workflows_file),
           "XUNCHA_INSTANCE": str(tmp_path / "instance")}

    def run(*args):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def changed_copy(tmp_path, name="v2.yaml") -> Path:
    """The shipped file with one transition relabelled: a real change, still valid."""
    path = tmp_path / name
    text = SHIPPED.read_text(encoding="utf-8")
    assert "{zh: 交办, en: Assign to unit}" in text
    path.write_text(text.replace("{zh: 交办, en: Assign to unit}", "{zh: 交办整改, en: Assign}"), encoding="utf-8")
    return path


def broken_copy(tmp_path) -> Path:
    path = tmp_path / "broken.yaml"
    text = SHIPPED.read_text(encoding="utf-8").replace("        to: verifying\n", "        to: verified\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_init_is_idempotent_and_loads_the_workflow(xuncha, tmp_path):
    first = xuncha("init")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "finding v1 loaded"
    assert (tmp_path / "instance").is_dir()
    second = xuncha("init")
    assert second.exit_code == 0, second.output
    assert second.stdout.strip() == "finding v1 unchanged"


def test_init_never_replaces_an_active_version_the_file_did_not_produce(xuncha, workflows_file, tmp_path, db_url):
    assert xuncha("init").stdout.strip() == "finding v1 loaded"
    store = Store(db_url)
    try:  # an administrator changes the rules through the API (POST /workflows): v2
        with store.uow() as uow:
            admin.load_workflows(uow, changed_copy(tmp_path).read_text(encoding="utf-8"), by="gad.admin")
            uow.commit()
    finally:
        store.dispose()
    again = xuncha("init")  # the file still holds v1's text: it must not come back as v3
    assert again.exit_code == 0 and again.stdout.strip() == "finding v2 kept"
    assert "warning: finding v2 is active and differs from" in again.stderr
    assert f"xuncha workflow load {workflows_file}" in again.stderr
    assert "-    zh: 交办整改" in again.stderr and "+    zh: 交办\n" in again.stderr  # what differs
    listed = xuncha("workflow", "list").stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [["finding", "v1"], ["*", "finding"]]
    on_purpose = xuncha("workflow", "load", str(workflows_file))
    assert on_purpose.stdout.strip() == "finding v3 loaded"


def test_unit_create_and_unknown_parent(xuncha, db_url):
    assert xuncha("unit", "create", "GAD", "--name", "总务部").stdout.strip() == "unit GAD created"
    made = xuncha("unit", "create", "PROP", "--name", "物业服务中心", "--name-en", "Property", "--parent", "GAD")
    assert made.exit_code == 0 and made.stdout.strip() == "unit PROP created"
    bad = xuncha("unit", "create", "LOST", "--name", "迷路", "--parent", "NOPE")
    assert bad.exit_code != 0 and "'NOPE'" in bad.stderr
    again = xuncha("unit", "create", "GAD", "--name", "总务部")
    assert again.exit_code != 0 and "'GAD'" in again.stderr
    store = Store(db_url)
    try:
        with store.uow(write=False) as uow:
            prop = admin.unit_by_code(uow, "PROP")
            assert (prop.name, prop.parent.code) == ("物业服务中心", "GAD")
            assert uow.session.scalar(sa.text("SELECT count(*) FROM units WHERE code = 'LOST'")) == 0
    finally:
        store.dispose()


def test_user_create_prints_only_a_working_token(xuncha, db_url):
    xuncha("init")
    xuncha("unit", "create", "FOOD", "--name", "饮食服务中心")
    result = xuncha("user", "create", "zhang", "--role", "centre", "--unit", "FOOD", "--display-name", "张三")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xc_") and len(lines[0]) > 40
    store = Store(db_url)
    try:
        with store.uow(write=False) as uow:
            user = admin.user_by_token(uow, lines[0])
            assert user is not None and user.name == "zhang" and user.roles == ["centre"]
            assert user.display_name == "张三" and user.unit.code == "FOOD"
            assert admin.user_by_token(uow, lines[0] + "x") is None
    finally:
        store.dispose()


def test_user_create_refuses_unknown_role_and_unit(xuncha):
    xuncha("init")
    bad_role = xuncha("user", "create", "li", "--role", "janitor")
    assert bad_role.exit_code != 0 and "janitor" in bad_role.stderr and bad_role.stdout == ""
    bad_unit = xuncha("user", "create", "li", "--role", "centre", "--unit", "MARS")
    assert bad_unit.exit_code != 0 and "'MARS'" in bad_unit.stderr


def test_lint_clean_file(xuncha):
    result = xuncha("lint")
    assert result.exit_code == 0
    assert result.stdout == "" and "0 error(s), 0 warning(s)" in result.stderr


def test_lint_broken_file_names_file_and_line(xuncha, tmp_path):
    path = broken_copy(tmp_path)
    result = xuncha("lint", str(path))
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    where, _, message = line.partition(": error: ")
    file, _, number = where.rpartition(":")
    assert file == str(path) and "'verified'" in message
    assert "to: verified" in path.read_text(encoding="utf-8").splitlines()[int(number) - 1]


def test_lint_unreadable_file(xuncha, tmp_path):
    result = xuncha("lint", str(tmp_path / "nope.yaml"))
    assert result.exit_code != 0 and "cannot read" in result.stderr


def test_workflow_load_and_list(xuncha, tmp_path):
    xuncha("init")
    v2 = changed_copy(tmp_path)
    loaded = xuncha("workflow", "load", str(v2), "--by", "王老师")
    assert loaded.exit_code == 0 and loaded.stdout.strip() == "finding v2 loaded"
    assert xuncha("workflow", "load", str(v2)).stdout.strip() == "finding v2 unchanged"
    listing = xuncha("workflow", "list").stdout.splitlines()
    assert len(listing) == 2
    assert listing[0].startswith("  finding v1 ") and listing[1].startswith("* finding v2 ")
    assert "王老师" in listing[1]


def test_workflow_load_refuses_a_broken_file(xuncha, tmp_path):
    xuncha("init")
    path = broken_copy(tmp_path)
    result = xuncha("workflow", "load", str(path))
    assert result.exit_code != 0
    assert f"{path}:" in result.stderr and "'verified'" in result.stderr and "not loaded" in result.stderr
    assert xuncha("workflow", "list").stdout.count("finding v") == 1


def test_workflow_diagram(xuncha, tmp_path):
    zh = xuncha("workflow", "diagram", "finding")
    assert zh.exit_code == 0
    assert zh.stdout.startswith("stateDiagram-v2") and 'state "已上报" as reported' in zh.stdout
    assert "verifying --> closed: 复查通过" in zh.stdout
    en = xuncha("workflow", "diagram", "finding", "--lang", "en", "--file", str(changed_copy(tmp_path)))
    assert 'state "Reported" as reported' in en.stdout and "reported --> assigned: Assign\n" in en.stdout
    missing = xuncha("workflow", "diagram", "permit")
    assert missing.exit_code != 0 and "'permit'" in missing.stderr and "finding" in missing.stderr


def _finding(campus, unit="FOOD", assign=False) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="消防通道堵塞", category="消防", location="二食堂后门", unit=unit))
        if assign:
            services.advance(uow, f.id, "assign", campus.actor("inspector"), {})
        uow.commit()
        return f.id


def _workflow_version(store, fid) -> tuple[str, int]:
    with store.uow(write=False) as uow:
        f = uow.session.get(Finding, fid)
        return f.state, f.workflow_version


def test_workflow_migrate_refuses_then_moves(campus, xuncha, tmp_path):
    reported, assigned = _finding(campus), _finding(campus, assign=True)
    assert xuncha("workflow", "load", str(changed_copy(tmp_path))).exit_code == 0
    refused = xuncha("workflow", "migrate", "finding", "--to", "2", "--map", "reported=reported")
    assert refused.exit_code != 0 and "assigned" in refused.stderr
    assert _workflow_version(campus.store, assigned) == ("assigned", 1)
    malformed = xuncha("workflow", "migrate", "finding", "--to", "2", "--map", "reported")
    assert malformed.exit_code != 0 and "OLD=NEW" in malformed.stderr
    moved = xuncha("workflow", "migrate", "finding", "--to", "2", "--map", "reported=reported",
                   "--map", "assigned=assigned", "--by", "管理员")
    assert moved.exit_code == 0 and moved.stdout.strip() == "2 finding(s) moved to finding v2"
    assert _workflow_version(campus.store, reported) == ("reported", 2)
    assert _workflow_version(campus.store, assigned) == ("assigned", 2)
    assert xuncha("audit", "verify").stdout.strip() == "ok 5 rows"  # 1 + 2 rows, plus one migrate row each


def test_audit_verify_ok_then_broken(campus, xuncha):
    first, second = _finding(campus), _finding(campus, assign=True)
    ok = xuncha("audit", "verify")
    assert ok.exit_code == 0 and ok.stdout.strip() == "ok 3 rows"
    with campus.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE findings SET state = 'closed' WHERE id = :id"), {"id": second})
    broken = xuncha("audit", "verify")
    assert broken.exit_code == 1
    assert broken.stdout.startswith(f"broken: finding {second} seq 2:")
    assert _workflow_version(campus.store, first) == ("reported", 1)
