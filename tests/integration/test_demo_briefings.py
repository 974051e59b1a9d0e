"""The demo publishes briefings, so a new user sees numbered ones at once."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from places_helpers import load_places

from engine.actors import Actor
from engine.briefings import service
from engine.demo import build_demo
from engine.places.config import loaded_config


def test_the_demo_publishes_the_last_three_months(store):
    build_demo(store, findings=40, now=datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with store.uow(write=False) as uow:
        rows = service.list_briefings(uow, Actor("someone", ("leader",)))
        assert [(r.year, r.number, r.period_start.month) for r in rows] == [(2026, 3, 4), (2026, 2, 3), (2026, 1, 2)]
        assert all(service.files_of(uow, [r.id])[r.id].keys() == {"docx"} for r in rows)
        assert all(r.content["coverage"] is None for r in rows)  # no places file: no coverage section


def test_the_demo_briefings_show_the_coverage_of_the_demo_campus(store):
    load_places(store)
    build_demo(store, findings=40, now=datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with store.uow(write=False) as uow:
        assert loaded_config(uow) is not None
        rows = service.list_briefings(uow, Actor("someone", ("leader",)), status="published")
        assert len(rows) == 3
        for r in rows:
            coverage = r.content["coverage"]
            assert coverage["title"] == "巡查覆盖情况" and coverage["tables"][0]["rows"], r.number
            assert any(note.startswith("本期共检查") for note in coverage["notes"])
