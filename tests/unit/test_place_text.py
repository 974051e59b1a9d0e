"""The building of a Chinese campus address, which has no spaces between building, floor and point."""
from __future__ import annotations

import pytest

from engine.place_text import building_of, same_place_text

BUILDING = {"same": "building"}


@pytest.mark.parametrize(("location", "building"), [
    ("学生公寓9号楼3层东侧卫生间", "学生公寓9号楼"),
    ("学生公寓9号楼 3层", "学生公寓9号楼"),
    ("学生公寓 9号楼 5层", "学生公寓9号楼"),
    ("学生公寓９号楼　３层", "学生公寓9号楼"),  # full-width digits and space
    ("研究生公寓2号楼", "研究生公寓2号楼"),
    ("10号楼", "10号楼"),
    ("第一食堂二楼", "第一食堂"),
    ("第一食堂后厨", "第一食堂"),
    ("三食堂清真餐厅", "三食堂"),
    ("图书馆3楼", "图书馆"),
    ("体育馆", "体育馆"),
    ("主教学楼A座", "主教学楼A座"),
    ("第二教学楼301教室", "第二教学楼"),
    ("一食堂 门口", "一食堂"),
    ("校园主干道 路灯", "校园主干道"),
])
def test_the_building_of_a_location(location, building):
    assert building_of(location) == building


@pytest.mark.parametrize(("a", "b", "same"), [
    ("学生公寓9号楼3层", "学生公寓9号楼5层", True),
    ("第一食堂二楼", "第一食堂后厨", True),
    ("图书馆3楼", "体育馆", False),
    ("10号楼", "1号楼", False),
    ("10号楼3层", "1号楼3层", False),
    ("学生公寓9号楼", "学生公寓3号楼", False),
    ("学生公寓9号楼 3层", "学生公寓９号楼３层", True),
    ("主教学楼A座", "主教学楼B座", False),
])
def test_same_building(a, b, same):
    assert same_place_text(a, b, BUILDING) is same
    assert same_place_text(b, a, BUILDING) is same


def test_same_location_compares_the_whole_text_ignoring_width_and_spaces():
    assert same_place_text("学生公寓9号楼 3层", "学生公寓９号楼３层", {"same": "location"})
    assert not same_place_text("学生公寓9号楼3层", "学生公寓9号楼5层", {"same": "location"})


def test_patterns_and_separators_are_configurable():
    rule = {"same": "building", "building": [r"^.*?区"], "separators": "|"}
    assert same_place_text("东区3号楼", "东区体育馆", rule)
    assert not same_place_text("东区3号楼", "西区3号楼", rule)
    assert building_of("操场|看台", (r"^.*?号楼",), "|") == "操场"
