"""Rounds and checks prove coverage; gaps name what was never looked at; two-level credit in the scorecard."""
from __future__ import annotations

from datetime import date

import pytest
from places_helpers import at, build_places

from engine import coverage, rounds, scorecard, services
from engine.errors import InvalidEvent, InvalidFields, NotAllowed
from engine.models import Check

WEEK = (date(2026, 3, 2), date(2026, 3, 8))  # Monday to Sunday


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def plan(campus, who="inspector", level="department", start=True, **extra) -> int:
    with campus.store.uow() as uow:
        row = rounds.plan_round(uow, campus.actor(who), rounds.RoundInput(name="第10周常规巡查", level=level,
                                                                          **extra), now=at("2026-03-02", "08:00"))
        if start:
            rounds.move_round(uow, campus.actor(who), row.id, "start", now=at("2026-03-02", "08:00"))
        uow.commit()
        return row.id


def check(campus, round_id, place, when, who="inspector", **extra) -> Check:
    with campus.store.uow() as uow:
        done = rounds.record_check(uow, campus.actor(who), round_id, rounds.CheckInput(place, when, **extra),
                                   now=at("2026-03-31", "12:00"))
        uow.commit()
        return done


def rows(campus, who="inspector", **query) -> dict:
    with campus.store.uow(write=False) as uow:
        found = coverage.coverage(uow, campus.actor(who), coverage.CoverageQuery(*WEEK, **query))
    return {(r.place, r.period): r for r in found}


def test_a_check_knows_its_service_period_and_day(places):
    rid = plan(places)
    dinner = check(places, rid, "C1-W1", at("2026-03-03", "17:30"))  # a window counts for its canteen
    night = check(places, rid, "D9-3F-WC", at("2026-03-07", "02:10"))  # Saturday 02:10 is Friday's night
    outside = check(places, rid, "C1", at("2026-03-03", "15:00"))
    assert (dinner.period, dinner.day_type) == ("dinner", "weekday")
    assert (night.period, night.service_day, night.day_type) == ("night", date(2026, 3, 6), "weekday")
    assert outside.period is None


def test_a_round_with_ok_checks_raises_coverage(places):
    before = rows(places)
    assert before[("C1", "lunch")].checks == {"department": 0, "centre": 0}
    assert not before[("C1", "lunch")].met
    rid = plan(places, places=("C1", "D9"))
    for meal, hm in (("breakfast", "07:10"), ("lunch", "11:40"), ("dinner", "17:20")):
        assert check(places, rid, "C1", at("2026-03-04", hm)).period == meal
    after = rows(places)
    lunch = after[("C1", "lunch")]
    assert lunch.checks == {"department": 1, "centre": 0}
    assert lunch.last_check_at == at("2026-03-04", "11:40")
    weekly = next(t for t in lunch.targets if t.name == "食堂每餐每周督查")
    assert (weekly.required, weekly.achieved, weekly.met) == (1, 1, True)
    daily = next(t for t in lunch.targets if t.name == "食堂每餐每日自查")
    assert (daily.required, daily.achieved) == (7, 0)  # centre level: every day of the week
    assert rows(places, level="centre")[("C1", "lunch")].checks == {"centre": 0}


def test_gaps_list_a_canteen_dinner_never_inspected(places):
    rid = plan(places)
    for day in ("2026-03-02", "2026-03-03"):
        check(places, rid, "C1", at(day, "07:30"))
        check(places, rid, "C1", at(day, "12:00"))
    with places.store.uow(write=False) as uow:
        found = coverage.gaps(uow, places.actor("inspector"), coverage.CoverageQuery(*WEEK, kind="canteen"),
                              now=at("2026-03-09", "09:00"))
    weekly = [(g.place, g.period) for g in found if g.target == "食堂每餐每周督查"]
    assert weekly == [("C1", "dinner")]  # breakfast and lunch were inspected this week
    worst = found[0]
    assert (worst.place, worst.period, worst.achieved, worst.reason) == ("C1", "dinner", 0, "below_target")
    assert worst.last_check_at is None
    stale = [g for g in found if g.reason == "not_checked"]
    assert stale == []  # checked this week


def test_places_never_checked_are_blind_spots(places):
    with places.store.uow(write=False) as uow:
        found = coverage.gaps(uow, places.actor("leader"), coverage.CoverageQuery(*WEEK), stale_days=10,
                              now=at("2026-03-09", "09:00"))
    never = {g.place for g in found if g.reason == "not_checked"}
    assert never == {"C1", "D9", "D3", "EAST"}


def test_who_may_plan_and_check_follows_the_configuration(places):
    with places.store.uow() as uow, pytest.raises(NotAllowed):
        rounds.plan_round(uow, places.actor("food"), rounds.RoundInput("自查", "department"))
    with places.store.uow() as uow, pytest.raises(NotAllowed):  # another unit's self-inspection
        rounds.plan_round(uow, places.actor("food"), rounds.RoundInput("自查", "centre", unit="PROP"))
    own = plan(places, who="food", level="centre", unit="FOOD", start=False)
    with pytest.raises(InvalidEvent):  # not started yet
        check(places, own, "C1", at("2026-03-03", "12:00"), who="food")
    with places.store.uow() as uow:
        rounds.move_round(uow, places.actor("food"), own, "start")
        uow.commit()
    with pytest.raises(InvalidFields) as caught:  # a self-inspection checks the unit's own places
        check(places, own, "D9", at("2026-03-03", "12:00"), who="food")
    assert "another unit" in caught.value.fields["place"]
    assert check(places, own, "C1", at("2026-03-03", "12:00"), who="food").level == "centre"


def test_findings_reported_in_a_round_link_to_it_and_its_check(places):
    rid = plan(places, who="food", level="centre", unit="FOOD")
    with places.store.uow() as uow:
        finding = services.report_finding(uow, places.actor("food"), services.Report(
            title="餐桌未及时清理", category="卫生", location="", unit=None, place="C1-2F-T", round=rid, source=None),
            now=at("2026-03-03", "12:30"))
        uow.commit()
        fid = finding.id
    assert (finding.source, finding.found_by, finding.location, finding.inspection_round) == \
        ("self_inspection", "centre", "一食堂二层二层餐桌区", "第10周常规巡查")
    with pytest.raises(InvalidFields):  # result ok with findings named
        check(places, rid, "C1-2F", at("2026-03-03", "12:30"), who="food", result="ok", findings=(fid,))
    done = check(places, rid, "C1-2F", at("2026-03-03", "12:30"), who="food", findings=(fid,))
    assert done.result == "findings"
    with places.store.uow(write=False) as uow:
        view = rounds.get_round(uow, places.actor("food"), rid)
        assert [f.id for f in view.findings] == [fid] and view.findings[0].check_id == done.id


def _report(campus, who, place, when, **extra) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor(who), services.Report(
            title="问题", category="卫生", location="", unit=None, place=place, **extra), now=when)
        uow.commit()
        return f.id


def _card(campus, unit):
    """The unit's own scorecard (without the units below it, so PROP does not count PROP-DORM's 漏查)."""
    with campus.store.uow(write=False) as uow:
        return scorecard.unit_scorecard(uow, campus.actor("leader"), unit, date(2026, 3, 1), date(2026, 3, 31),
                                        now=at("2026-03-31", "12:00"), subunits=False)


def test_a_department_finding_where_the_centre_checked_ok_the_day_before_is_missed(places):
    own = plan(places, who="food", level="centre", unit="FOOD")
    check(places, own, "C1-W1", at("2026-03-03", "11:30"), who="food")  # 自查: nothing wrong
    _report(places, "inspector", "C1-W2", at("2026-03-04", "11:45"))  # the department finds a problem there
    _report(places, "inspector", "D9-3F-WC", at("2026-03-04", "15:00"))  # PROP-DORM never checked D9: also 漏查
    _report(places, "inspector", "EAST-LAMP", at("2026-03-04", "20:00"))  # outdoor: no centre target, no check
    food, dorm, prop = _card(places, "FOOD"), _card(places, "PROP-DORM"), _card(places, "PROP")
    assert (food.tally.missed, food.tally.missed_points) == (1, 2.0)
    assert dorm.tally.missed == 1
    assert prop.tally.missed == 0
    assert food.score == pytest.approx(_card_without_credit(food) - 2.0)
    assert food.as_dict()["missed"] == 1


def _card_without_credit(card) -> float:
    from dataclasses import replace

    return scorecard.composite(replace(card.tally, missed=0, missed_points=0.0, self_corrected=0,
                                       self_correction_points=0.0))


def test_a_problem_the_centre_found_and_closed_on_time_is_credited(places):
    own = plan(places, who="food", level="centre", unit="FOOD")
    fid = _report(places, "food", "C1", at("2026-03-03", "09:00"), round=own, source=None)
    with places.store.uow() as uow:
        for event, who, payload in (("assign", "inspector", {}), ("rectify", "food", {"note": "已清理"}),
                                    ("verify", "inspector", {"verdict": "pass"})):
            services.advance(uow, fid, event, places.actor(who), payload, now=at("2026-03-03", "10:00"))
        uow.commit()
    card = _card(places, "FOOD")
    assert (card.tally.self_corrected, card.tally.self_correction_points) == (1, 1.0)
    assert card.score == pytest.approx(_card_without_credit(card) + 1.0)


def test_a_target_of_two_checks_a_week_counts_weeks_with_two(places):
    from places_helpers import PLACES_YAML

    from engine.places.config import load_config

    text = PLACES_YAML.read_text(encoding="utf-8").replace(
        "kind: canteen, periods: [breakfast, lunch, dinner], level: department,\n       at_least: 1, per: week",
        "kind: canteen, periods: [breakfast, lunch, dinner], level: department,\n       at_least: 2, per: week")
    assert "at_least: 2, per: week" in text
    with places.store.uow() as uow:
        load_config(uow, text, by="test")
        uow.commit()
    rid = plan(places)
    check(places, rid, "C1", at("2026-03-03", "12:00"))
    check(places, rid, "C1", at("2026-03-04", "17:30"))
    check(places, rid, "C1", at("2026-03-05", "17:30"))
    found = rows(places)
    weekly = {p: next(t for t in found[("C1", p)].targets if t.name == "食堂每餐每周督查") for p in ("lunch", "dinner")}
    assert (weekly["lunch"].achieved, weekly["dinner"].achieved) == (0, 1)
