"""`xuncha demo` with places: some public reports came through QR codes, and the closed ones were rated."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from places_helpers import load_places

from engine import audit, public, scorecard
from engine.actors import Actor
from engine.demo import build_demo
from engine.models import Finding, PublicReport

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_demo_has_qr_reports_some_closed_and_rated(store):
    load_places(store)
    build_demo(store, findings=80, seed=7, now=NOW)
    with store.uow(write=False) as uow:
        rows = uow.session.execute(sa.select(PublicReport, Finding).join(Finding)).all()
        assert len(rows) >= 4
        assert all(f.source == "public" and f.found_by == "public" and f.place_id for _, f in rows)
        assert {r.contact for r, _ in rows} - {None}  # some left a contact
        receipts = [public.receipt(uow, r.receipt) for r, _ in rows]
        assert {"rectified"} <= {r.status for r in receipts} and len({r.status for r in receipts}) >= 2
        rated = [r for r in receipts if r.rating]
        assert rated and all(r.status == "rectified" and r.rated_at > r.closed_at for r in rated)
        assert audit.verify(uow.session).ok  # the ratings are rows of their findings' chains
        cards = scorecard.ranking(uow, Actor("admin", ("admin",)), NOW - timedelta(days=600), NOW)
        assert sum(c.tally.ratings for c in cards) == len(rated)
        assert any(c.tally.satisfaction_points for c in cards)
