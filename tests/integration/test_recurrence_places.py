"""屡查屡犯 by the place tree: same floor, building or area when both findings have a place, else the text rule."""
from __future__ import annotations

from pathlib import Path

import pytest
from places_helpers import at, build_places

from engine import admin, recurrence, services

WORKFLOWS_YAML = Path(__file__).resolve().parents[2] / "workflows.yaml"


def with_same(same: str) -> str:
    text = WORKFLOWS_YAML.read_text(encoding="utf-8")
    return text[:text.index("\n    # Recurrence classes")] + f"""
    rules:
      repeat_found: {{window: 30 days, same: {same}, separator: " "}}
"""


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def rule(campus, same: str) -> None:
    with campus.store.uow() as uow:
        admin.load_workflows(uow, with_same(same), by="test")
        uow.commit()


def report(campus, place=None, location="", day="2026-03-03", unit=None) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="卫生间地面积水", category="卫生", location=location, unit=unit, place=place),
            now=at(day, "10:00"))
        uow.commit()
    with campus.store.uow() as uow:  # the rules act once a finding is accepted into the loop
        services.advance(uow, f.id, "assign", campus.actor("inspector"), now=at(day, "10:30"))
        uow.commit()
    return f.id


def repeats(campus, fid) -> list[int]:
    with campus.store.uow(write=False) as uow:
        return recurrence.links(uow, fid, campus.actor("admin"))["repeats"]


def test_same_floor_links_rooms_of_one_floor_not_of_another(places):
    rule(places, "floor")
    first = report(places, "D9-3F-WC")
    other_floor = report(places, "D9-4F-WC", day="2026-03-04")
    same_floor = report(places, "D9-3F-301", day="2026-03-05")
    assert repeats(places, other_floor) == []
    assert repeats(places, same_floor) == [first]


def test_same_building_links_floors_of_one_building(places):
    rule(places, "building")
    first = report(places, "D9-3F-WC")
    assert repeats(places, report(places, "D9-4F-WC", day="2026-03-04")) == [first]
    assert repeats(places, report(places, "D3", day="2026-03-05")) == []


def test_same_place_is_the_place_itself(places):
    rule(places, "place")
    first = report(places, "D9-3F-WC")
    assert repeats(places, report(places, "D9-3F-301", day="2026-03-04")) == []
    assert repeats(places, report(places, "D9-3F-WC", day="2026-03-05")) == [first]


def test_a_finding_without_a_place_falls_back_to_the_text_rule(places):
    rule(places, "building")
    by_text = report(places, location="学生公寓9号楼 3层", unit="PROP-DORM")
    placed = report(places, "D9-3F-WC", day="2026-03-04")
    text_again = report(places, location="学生公寓9号楼 4层", unit="PROP-DORM", day="2026-03-05")
    # Where either finding has no place, their texts are compared: 学生公寓9号楼3层东侧卫生间 (the placed
    # finding's full place name) lies in the same building as 学生公寓9号楼 3层, spaces or not.
    assert repeats(places, placed) == [by_text]
    assert repeats(places, text_again) == [placed, by_text]
