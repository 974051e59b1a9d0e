"""The `xuncha` command for ordinary mistakes and token lifecycles: one clear line, never a traceback."""
from __future__ import annotations

import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import users
from engine.db import utcnow
from engine.errors import InvalidToken
from engine.unit_of_work import Store
from web.cli import main

SHIPPED = Path(__file__).resolve().parents[2] / "workflows.yaml"
PG_ADMIN_URL = os.environ.get("XUNCHA_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite"] + ([] if os.environ.get("XUNCHA_SKIP_PG") == "1" else ["postgresql"])  # as tests/conftest.py


def run(url: str, tmp_path: Path, *args: str):
    """`xuncha ARGS` with exceptions left to the command itself, as a user sees it."""
    env = {"XUNCHA_DATABASE_URL": url, "XUNCHA_WORKFLOWS": str(SHIPPED), "XUNCHA_INSTANCE": str(tmp_path / "i")}
    return CliRunner().invoke(main, list(args), env=env)


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A reachable database with no tables at all (before `xuncha init`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"xuncha_empty_{uuid.uuid4().hex[:8]}"
    admin_engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_engine.dispose()


def test_commands_before_init_say_to_run_init(empty_url, tmp_path):
    for args in (("user", "list"), ("workflow", "list"), ("audit", "verify"), ("calendar", "list"),
                 ("user", "create", "x", "--role", "inspector")):
        assert "run `xuncha init` first" in one_line_error(run(empty_url, tmp_path, *args)), args
    assert "run `xuncha init` first" in one_line_error(run(empty_url, tmp_path, "serve", "--port", "1"))
    assert run(empty_url, tmp_path, "init").exit_code == 0
    assert run(empty_url, tmp_path, "workflow", "list").exit_code == 0


def test_a_database_that_is_down_or_a_postgres_url(tmp_path):
    down = one_line_error(run("postgresql+psycopg://postgres@127.0.0.1:1/xuncha", tmp_path, "workflow", "list"))
    assert "cannot use the database" in down and "127.0.0.1:1" in down
    down = one_line_error(run("postgres://postgres@127.0.0.1:1/xuncha", tmp_path, "init"))
    assert "cannot use the database" in down
    assert "not a database URL" in one_line_error(run("mysqlx://nobody@host/db", tmp_path, "user", "list"))


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL")
def test_a_postgres_url_as_hosting_panels_write_it_is_accepted(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL half")
    url = db_url.replace("postgresql+psycopg://", "postgres://")
    assert run(url, tmp_path, "init").exit_code == 0
    assert "finding v1" in run(url, tmp_path, "workflow", "list").output


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("xuncha, version ")


@pytest.fixture
def inited(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        fresh = tmp_path / "cli.db"
        shutil.copy(db_url.removeprefix("sqlite:///"), fresh)
        db_url = f"sqlite:///{fresh}"
    assert run(db_url, tmp_path, "init").exit_code == 0
    return db_url


def test_centre_users_need_a_unit(inited, tmp_path):
    assert run(inited, tmp_path, "unit", "create", "FOOD", "--name", "饮食服务中心").exit_code == 0
    refused = one_line_error(run(inited, tmp_path, "user", "create", "canteen", "--role", "centre"))
    assert "unit" in refused and "centre" in refused
    assert run(inited, tmp_path, "user", "create", "canteen", "--role", "centre", "--unit", "FOOD").exit_code == 0


def test_tokens_are_listed_disabled_enabled_rotated_and_expire(inited, tmp_path, monkeypatch):
    token = run(inited, tmp_path, "user", "create", "王老师", "--role", "inspector").output.strip()
    listed = run(inited, tmp_path, "user", "list").output.splitlines()
    assert listed[0].split("\t")[:4] == ["王老师", "inspector", "-", "enabled"] and "used never" in listed[0]
    store = Store(inited)
    try:
        def check(secret: str):
            with store.uow(write=False) as uow:
                return users.authenticate(uow, secret).name

        assert check(token) == "王老师"
        assert run(inited, tmp_path, "user", "disable", "王老师").exit_code == 0
        with pytest.raises(InvalidToken, match="disabled"):
            check(token)
        assert run(inited, tmp_path, "user", "enable", "王老师").exit_code == 0
        assert check(token) == "王老师"
        rotated = run(inited, tmp_path, "user", "rotate-token", "王老师").output.strip()
        with pytest.raises(InvalidToken, match="unknown"):
            check(token)
        assert check(rotated) == "王老师"
        assert "not found" in one_line_error(run(inited, tmp_path, "user", "disable", "nobody"))
        monkeypatch.setenv("XUNCHA_TOKEN_DAYS", "1")
        with store.uow() as uow:
            short = users.rotate_token(uow, "王老师", now=utcnow() - timedelta(days=2))
            uow.commit()
        with pytest.raises(InvalidToken, match="expired"):
            check(short)
    finally:
        store.dispose()


def test_calendar_remove_takes_ranges(inited, tmp_path):
    assert run(inited, tmp_path, "calendar", "add", "2027-01-18..2027-01-22").output.strip() == "5 day(s) closed"
    removed = run(inited, tmp_path, "calendar", "remove", "2027-01-18..2027-01-20", "2027-01-22")
    assert removed.exit_code == 0 and removed.output.strip() == "4 day(s) removed"
    assert run(inited, tmp_path, "calendar", "list").output.split("\t")[0] == "2027-01-21"


def test_demo_prints_role_and_unit_beside_each_token(inited, tmp_path):
    lines = run(inited, tmp_path, "demo", "--findings", "2").output.splitlines()
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert rows["wang.jun"][2:] == ["inspector", "-"] and rows["wang.jun"][1].startswith("xc_")
    assert any(row[2] == "centre" and row[3] != "-" for row in rows.values())
