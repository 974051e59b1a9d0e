"""The demo publishes briefings, so a new user sees numbered ones at once."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine.actors import Actor
from engine.briefings import service
from engine.demo import build_demo


def test_the_demo_publishes_the_last_three_months(store):
    build_demo(store, findings=40, now=datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with store.uow(write=False) as uow:
        rows = service.list_briefings(uow, Actor("someone", ("leader",)))
        assert [(r.year, r.number, r.period_start.month) for r in rows] == [(2026, 3, 4), (2026, 2, 3), (2026, 1, 2)]
        assert all(service.files_of(uow, [r.id])[r.id].keys() == {"docx"} for r in rows)
