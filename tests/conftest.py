"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, the default workflows, a small campus."""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from shipped_workflows import QUIET_WORKFLOWS, WORKFLOWS_YAML

from engine import admin
from engine.actors import Actor, actor_for
from engine.migrations import upgrade
from engine.models import Base, User
from engine.unit_of_work import Store

PG_ADMIN_URL = os.environ.get("XUNCHA_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite"] + ([] if os.environ.get("XUNCHA_SKIP_PG") == "1" else ["postgresql"])


def _pg_url(name: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test run, migrated to head, dropped at the end."""
    name = f"xuncha_test_{uuid.uuid4().hex[:10]}"
    admin_engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    url = _pg_url(name)
    upgrade(url)
    yield url
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # The log tables refuse TRUNCATE through a trigger; tests start clean with triggers off (superuser).
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """The URL of an empty, migrated database; every test that uses it runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "xuncha.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def store(db_url, tmp_path):
    """A Store on the test database with the shipped workflows (recurrence rules quiet) as version 1."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    s = Store(db_url, instance=instance)
    with s.uow() as uow:
        admin.load_workflows(uow, QUIET_WORKFLOWS, file=str(WORKFLOWS_YAML), by="setup")
        uow.commit()
    yield s
    s.dispose()


@dataclass
class Campus:
    """The people and units most tests need, with their API tokens."""

    store: Store
    actors: dict[str, Actor]
    tokens: dict[str, str]

    def actor(self, name: str) -> Actor:
        return self.actors[name]


UNITS = [
    ("GAD", "总务部", "General Affairs Department", None),
    ("PROP", "物业服务中心", "Property Service Centre", "GAD"),
    ("PROP-DORM", "物业服务中心宿管科", "Dormitory section", "PROP"),
    ("FOOD", "饮食服务中心", "Catering Service Centre", "GAD"),
    ("ENERGY", "能源服务中心", "Energy Service Centre", "GAD"),
]
USERS = [
    ("inspector", ["inspector"], None),
    ("leader", ["leader"], None),
    ("admin", ["admin"], None),
    ("auditor", ["auditor"], None),
    ("prop", ["centre"], "PROP"),
    ("dorm", ["centre"], "PROP-DORM"),
    ("food", ["centre"], "FOOD"),
    ("student", ["public"], None),
]


def build_campus(store: Store) -> Campus:
    tokens = {}
    with store.uow() as uow:
        for code, name, name_en, parent in UNITS:
            admin.create_unit(uow, code, name, parent=parent, name_en=name_en)
        for name, roles, unit in USERS:
            _, tokens[name] = admin.create_user(uow, name, roles, unit=unit)
        uow.commit()
    with store.uow(write=False) as uow:
        actors = {u.name: actor_for(uow.session, u) for u in uow.session.scalars(sa.select(User))}
    return Campus(store, actors, tokens)


@pytest.fixture
def campus(store) -> Campus:
    return build_campus(store)
