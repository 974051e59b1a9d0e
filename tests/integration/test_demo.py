"""`xuncha demo`: a demo campus whose findings went through the real loop, reproducible and never doubled."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from engine import admin, audit, recurrence
from engine.demo import UNITS, USERS, build_demo
from engine.errors import InvalidInput
from engine.models import AuditEntry, Finding, Notification, Unit, User
from engine.unit_of_work import Store
from web.cli import main

WORKFLOWS_YAML = Path(__file__).resolve().parents[2] / "workflows.yaml"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _summary(store: Store) -> list[tuple]:
    with store.uow(write=False) as uow:
        rows = uow.session.execute(sa.select(
            Finding.title, Finding.state, Finding.source, Finding.severity, Unit.code, Finding.created_at,
            Finding.version).join(Unit, Unit.id == Finding.unit_id).order_by(Finding.id)).all()
    return [tuple(r) for r in rows]


@contextmanager
def _second_sqlite_store(template: Path, path: Path):
    """Another database to compare with (the backend under test may be PostgreSQL), workflows loaded."""
    shutil.copy(template, path)
    other = Store(f"sqlite:///{path}")
    try:
        with other.uow() as uow:
            admin.load_workflows(uow, WORKFLOWS_YAML.read_text(encoding="utf-8"), by="setup")
            uow.commit()
        yield other
    finally:
        other.dispose()


def _counts(store: Store) -> dict[str, int]:
    with store.uow(write=False) as uow:
        return {model.__name__: uow.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Unit, User, Finding, AuditEntry)}


def test_demo_builds_a_campus_whose_findings_went_through_the_loop(store):
    before = datetime.now(UTC)
    tokens = build_demo(store, findings=60, seed=7)
    after = datetime.now(UTC)
    with store.uow(write=False) as uow:
        session = uow.session
        units = {u.code: u for u in session.scalars(sa.select(Unit))}
        assert {"GAD", "OFFICE", "PROP", "FOOD", "ENERGY", "FEICUI", "PROP-DORM", "FOOD-C1"} <= set(units)
        assert units["PROP-DORM"].parent.code == "PROP" and units["FEICUI"].parent.code == "GAD"
        assert units["GAD"].name == "总务部" and units["GAD"].name_en == "General Affairs Department"
        users = list(session.scalars(sa.select(User)))
        people_roles = admin.known_roles(uow) - {"system"}  # the system acts by rule, it is no person
        assert people_roles <= {r for u in users for r in u.roles}
        centre_units = {u.unit.code for u in users if "centre" in u.roles}
        assert {"OFFICE", "PROP", "FOOD", "ENERGY", "FEICUI"} <= centre_units

        findings = list(session.scalars(sa.select(Finding)))
        assert len(findings) == 60
        states = {f.state for f in findings}
        assert len(states) >= 4 and "closed" in states
        assert sum(f.state == "closed" for f in findings) > len(findings) / 3
        assert {f.source for f in findings} == {"department", "self_inspection", "public"}
        assert len({f.category for f in findings}) >= 5
        assert all(f.location in f.title and f.description for f in findings)

        report = audit.verify(session)
        assert report.ok, report.problem
        rows = list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.finding_id, AuditEntry.seq)))
        assert report.rows_checked == len(rows) > 3 * len(findings)
        events = {r.event for r in rows}
        assert {"assign", "respond", "rectify", "verify", "escalate", "sanction"} <= events
        by_finding: dict[int, list[AuditEntry]] = {}
        for row in rows:
            by_finding.setdefault(row.finding_id, []).append(row)
        for finding in findings:
            history = by_finding[finding.id]
            times = [r.at for r in history]
            # each step at its own moment; a repeat link is logged at the moment of the acceptance it follows
            stepped = [r.at for r in history if r.event != recurrence.LINKED_EVENT]
            assert times == sorted(times) and len(set(stepped)) == len(stepped), finding.id
            assert times[0] == finding.created_at and times[-1] <= after
            assert finding.created_at > before - timedelta(days=600)
            assert history[-1].to_state == finding.state and len(history) == finding.version
        sanctions = [r.payload for r in rows if r.event == "sanction"]
        assert all(p["kind"] and p["decision"] for p in sanctions)

        for name, token in tokens.items():
            user = admin.user_by_token(uow, token)
            assert user is not None and user.name == name
    assert list(tokens) == [u[0] for u in USERS]


def test_demo_catering_centre_counts_its_deadlines_on_its_seven_day_calendar(store):
    build_demo(store, findings=80, seed=7, now=NOW)
    with store.uow(write=False) as uow:
        session = uow.session
        assert dict(session.execute(sa.select(Unit.code, Unit.calendar).where(Unit.calendar.is_not(None))).all()) \
            == {"FOOD": "catering"}
        rows = session.execute(sa.select(Unit.code, Finding.state, Finding.due_calendar)
                               .join(Unit, Unit.id == Finding.unit_id).where(Finding.due_at.is_not(None))).all()
    acting = {"assigned", "rectifying", "escalated"}  # states whose due names no calendar: the unit's applies
    expected = [("catering" if code == "FOOD" and state in acting else "office") for code, state, _ in rows]
    assert [calendar for *_, calendar in rows] == expected
    assert "catering" in expected


def test_same_seed_same_findings_on_any_database(store, sqlite_template, tmp_path):
    build_demo(store, findings=40, seed=11, now=NOW)
    with _second_sqlite_store(sqlite_template, tmp_path / "again.db") as again:
        build_demo(again, findings=40, seed=11, now=NOW)
        first, second = _summary(store), _summary(again)
    assert first == second
    assert all(created <= NOW for *_, created, _ in first)
    assert len({state for _, state, *_ in first}) >= 4


def test_another_seed_gives_other_findings(store, sqlite_template, tmp_path):
    build_demo(store, findings=20, seed=1, now=NOW)
    with _second_sqlite_store(sqlite_template, tmp_path / "other.db") as other:
        build_demo(other, findings=20, seed=2, now=NOW)
        assert [r[0] for r in _summary(store)] != [r[0] for r in _summary(other)]


def test_second_run_is_refused_and_changes_nothing(store):
    build_demo(store, findings=5, seed=3)
    before = _counts(store)
    with pytest.raises(InvalidInput, match="demo data exists already"):
        build_demo(store, findings=5, seed=4)
    assert _counts(store) == before
    assert before["Finding"] == 5 and before["Unit"] == len(UNITS)


def test_demo_needs_the_workflows_loaded(db_url):
    bare = Store(db_url)
    try:
        with pytest.raises(InvalidInput, match="xuncha init"):
            build_demo(bare, findings=3)
        assert _counts(bare) == {"Unit": 0, "User": 0, "Finding": 0, "AuditEntry": 0}
    finally:
        bare.dispose()


def test_demo_refuses_a_negative_count(store):
    with pytest.raises(InvalidInput, match="findings"):
        build_demo(store, findings=-1)
    assert _counts(store)["Unit"] == 0


def test_cli_demo_prints_a_token_per_user(store, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("XUNCHA_DATABASE_URL", db_url)
    monkeypatch.setenv("XUNCHA_INSTANCE", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--findings", "8", "--seed", "5"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [name for name, *_ in lines] == [u[0] for u in USERS]
    assert [(role, unit) for _, _, role, unit in lines] == [(u[2], u[3] or "-") for u in USERS]
    with store.uow(write=False) as uow:
        for name, token, *_ in lines:
            assert admin.user_by_token(uow, token).name == name
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 8

    again = runner.invoke(main, ["demo", "--findings", "8"])
    assert again.exit_code == 1
    assert "demo data exists already" in again.output and "Traceback" not in again.output
    assert _counts(store)["Finding"] == 8


def test_demo_under_the_shipped_recurrence_rules_lets_them_act(store):
    """With the rules as shipped, repeats in the demo are escalated by the system and the stories adapt."""
    shipped = Path(__file__).resolve().parents[2] / "workflows.yaml"
    with store.uow() as uow:
        admin.load_workflows(uow, shipped.read_text(encoding="utf-8"), by="test")
        uow.commit()
    build_demo(store, findings=120, seed=3, now=NOW)
    with store.uow(write=False) as uow:
        rules = set(uow.session.scalars(sa.select(AuditEntry.payload["rule"].as_string())
                                        .where(AuditEntry.actor == "system")))
        assert audit.verify(uow.session).ok
    assert rules & {"repeat_found", "not_fixed"}  # accepted repeats of a unit's findings set the rules off


def test_the_demo_runs_the_real_sweep_so_lateness_counts(store):
    build_demo(store, findings=60, seed=7, now=NOW)
    with store.uow(write=False) as uow:
        session = uow.session
        swept = set(session.scalars(sa.select(AuditEntry.finding_id).where(
            AuditEntry.payload["rule"].as_string() == "overdue")))
        assert swept
        for f in session.scalars(sa.select(Finding).where(Finding.id.in_(swept))):
            assert f.overdue_count >= 1 and f.closed_on_time is not True, f.id  # 查而不改, never "on time"
        kinds = set(session.scalars(sa.select(Notification.kind)))
        assert kinds == {"reminder", "overdue"}  # the units were told, as the sweep tells them
        # nothing is left overdue that a sweep running until NOW would have acted on
        assert session.scalar(sa.select(sa.func.count()).select_from(Finding).where(Finding.sweep_at <= NOW)) == 0
