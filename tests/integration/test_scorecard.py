"""Unit scorecards from real findings, sanctions and commendations, and the ranking of all units."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine import audit, records, scorecard, services, timers
from engine.errors import NotAllowed, NotFound

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
LATER = datetime(2026, 3, 30, 9, 0, tzinfo=SH)  # every due time of the findings below has passed


def report(campus, location, now=T0) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="问题", category="卫生", location=location, unit="FOOD"), now=now)
        uow.commit()
        return f.id


def walk(campus, fid, steps, now):
    for event, who, payload in steps:
        with campus.store.uow() as uow:
            services.advance(uow, fid, event, campus.actor(who), payload, now=now)
            uow.commit()


def card(campus, unit="FOOD", who="leader"):
    with campus.store.uow(write=False) as uow:
        return scorecard.unit_scorecard(uow, campus.actor(who), unit, *MARCH, now=LATER)


TO_VERIFYING = [("assign", "inspector", {}), ("respond", "food", {"plan": "整改"}), ("rectify", "food", {"note": "好"})]


@pytest.fixture
def food_month(campus):
    """FOOD in March: one closed on time, one closed after an overdue escalation and a failed check,
    one left open past due, one dismissed."""
    on_time = report(campus, "一食堂")
    walk(campus, on_time, TO_VERIFYING + [("verify", "inspector", {"verdict": "pass"})], T0 + timedelta(hours=1))
    late = report(campus, "二食堂")
    assert timers.sweep(campus.store, datetime(2026, 3, 4, 10, 0, tzinfo=SH)).fired == 1
    walk(campus, late, [("rectify", "food", {"note": "a"}), ("verify", "inspector", {"verdict": "fail"}),
                        ("rectify", "food", {"note": "b"}), ("verify", "inspector", {"verdict": "pass"})],
         datetime(2026, 3, 5, 9, 0, tzinfo=SH))
    report(campus, "三食堂", now=datetime(2026, 3, 10, 9, 0, tzinfo=SH))
    dismissed = report(campus, "四食堂")
    walk(campus, dismissed, [("dismiss", "inspector", {"reason": "不属实"})], T0)
    return {"late": late}


def test_scorecard_counts_and_rates_of_a_month(campus, food_month):
    c = card(campus)
    t = c.tally
    assert (t.received, t.dismissed, t.closed, t.closed_on_time, t.open, t.open_overdue) == (4, 1, 2, 1, 1, 1)
    assert (t.failed_verifications, t.not_fixed, t.repeat_found, t.repeat_failed) == (1, 1, 0, 1)
    assert (c.rates.closure, c.rates.on_time, c.rates.rework, c.rates.overdue) == pytest.approx((2 / 3, 1 / 3,
                                                                                                 1 / 3, 1.0))
    assert c.score == pytest.approx(50 / 3 + 30 * 2 / 3 + 10 * 2 / 3 + 10, abs=0.01)
    idle = card(campus, "PROP")  # nothing to score: not rated, rather than a perfect 100
    assert (idle.tally.received, idle.rated, idle.score) == (0, False, None)


def test_sanction_and_commendation_move_the_score_by_exactly_their_points(campus, food_month):
    escalated, april = report(campus, "五食堂"), report(campus, "六食堂")  # sanctioned once escalated (督办)
    for fid in (escalated, april):
        walk(campus, fid, [("escalate", "inspector", {"reason": "屡次督促未改"})], T0)
    before = card(campus).score
    with campus.store.uow() as uow:
        records.record_sanction(uow, campus.actor("leader"), records.SanctionDecision(
            kind="deduction", finding_ids=(escalated,), decision="扣分", points=7.5), now=LATER)
        records.record_sanction(uow, campus.actor("leader"), records.SanctionDecision(
            kind="deduction", finding_ids=(april,), decision="四月的", points=20),
            now=datetime(2026, 4, 2, tzinfo=SH))  # outside the period
        uow.commit()
    after_sanction = card(campus)
    assert before - after_sanction.score == pytest.approx(7.5)
    assert (after_sanction.tally.sanctions, after_sanction.tally.sanction_points) == (1, 7.5)
    with campus.store.uow() as uow:
        records.record_commendation(uow, campus.actor("inspector"), records.CommendationInput(
            unit="FOOD", location="一食堂", text="明厨亮灶", points=3), now=LATER)
        uow.commit()
    after_praise = card(campus)
    assert after_praise.score - after_sanction.score == pytest.approx(3)
    assert (after_praise.tally.commendations, after_praise.tally.commendation_points) == (1, 3.0)
    with campus.store.uow(write=False) as uow:
        assert audit.verify(uow.session).ok


def test_ranking_orders_every_unit_and_exports_csv(campus, food_month):
    with campus.store.uow(write=False) as uow:
        ranked = scorecard.ranking(uow, campus.actor("food"), *MARCH, now=LATER)
    assert [c.unit for c in ranked] == ["FOOD", "ENERGY", "GAD", "PROP", "PROP-DORM"]
    assert [c.rank for c in ranked] == [1, None, None, None, None]  # units with nothing to score are not ranked
    rows = scorecard.csv_rows(ranked)
    assert len(rows) == 6 and rows[1][:2] == [1, "FOOD"] and rows[-1][:2] == ["", "PROP-DORM"]
    assert rows[-1][rows[0].index("score")] == "" and rows[-1][rows[0].index("rated")] is False


def test_scorecards_are_read_only_by_those_who_may_see_the_unit(campus):
    assert card(campus, "FOOD", who="food").unit == "FOOD"
    with pytest.raises(NotFound):
        card(campus, "FOOD", who="prop")
    with pytest.raises(NotFound):
        card(campus, "NOPE")
    with campus.store.uow(write=False) as uow, pytest.raises(NotAllowed):
        scorecard.ranking(uow, campus.actor("student"), *MARCH)
