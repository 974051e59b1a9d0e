"""覆盖情况 page: the heat map's data and the gaps within reach, the same CSV rows as the API, refusals."""
from __future__ import annotations

import json
import re

import pytest
from places_helpers import at, build_places

from engine import rounds


@pytest.fixture
def checked(campus):
    """The campus's places, with a department check of the canteen at dinner on Tuesday 3 March 2026."""
    build_places(campus)
    with campus.store.uow() as uow:
        row = rounds.plan_round(uow, campus.actor("inspector"), rounds.RoundInput(name="晚餐督查", level="department"),
                                now=at("2026-03-02", "08:00"))
        rounds.move_round(uow, campus.actor("inspector"), row.id, "start", now=at("2026-03-02", "08:00"))
        dinner = rounds.CheckInput("C1-W1", at("2026-03-03", "17:30"))
        rounds.record_check(uow, campus.actor("inspector"), row.id, dinner, now=at("2026-03-03", "18:00"))
        uow.commit()
    return campus


WEEK = "from=2026-03-02&to=2026-03-08"


def chart(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', page, re.S)
                      .group(1))


def test_the_heat_map_counts_checks_per_place_and_period(browser, checked):
    page = browser("inspector").get(f"/coverage?{WEEK}").get_data(as_text=True)
    data = chart(page)
    assert "晚餐" in data["periods"] and any(p.startswith("一食堂") for p in data["places"])
    dinner, canteen = data["periods"].index("晚餐"), next(i for i, p in enumerate(data["places"]) if "一食堂" in p)
    cell = next(c for c in data["cells"] if c[0] == dinner and c[1] == canteen)
    assert cell[2] == 1 and 0 < cell[3] <= 1  # one check; the weekly department target met, the daily one not
    assert "data-heatmap" in page and "echarts.min.js" in page
    assert "巡查死角" in page and "学生公寓9号楼" in page and "未达巡查目标" in page


def test_no_other_units_places_in_the_map_the_gaps_or_the_csv(browser, checked):
    food = browser("food")
    page = food.get(f"/coverage?{WEEK}").get_data(as_text=True)
    assert all("学生公寓" not in p and "东门" not in p for p in chart(page)["places"])
    assert "学生公寓9号楼" not in page.split('id="h-gaps"')[1]
    csv_text = food.get(f"/coverage/gaps.csv?{WEEK}").get_data(as_text=True)
    assert csv_text.startswith("\ufeffplace,name,kind,unit,period,reason") and "C1" in csv_text
    assert "D9" not in csv_text and "EAST" not in csv_text
    detail = food.get(f"/coverage.csv?{WEEK}").get_data(as_text=True)
    assert "一食堂" in detail and "学生公寓" not in detail
    other = food.get(f"/coverage?{WEEK}&unit=PROP-DORM").get_data(as_text=True)
    assert "学生公寓9号楼" not in other  # asking for another unit shows nothing of it


def test_the_csv_is_the_apis(browser, checked, app):
    page = browser("inspector").get(f"/coverage/gaps.csv?{WEEK}").get_data()
    api = app.test_client().get(f"/api/v1/coverage/gaps?{WEEK}&format=csv",
                                headers={"Authorization": f"Bearer {checked.tokens['inspector']}"}).get_data()
    assert page == api


def test_bad_filters_are_named_and_the_public_is_refused(browser, checked):
    bad = browser("inspector").get("/coverage?from=2026-03-08&to=2026-03-01")
    assert bad.status_code == 422 and "结束日期早于开始日期" in bad.get_data(as_text=True)
    wrong = browser("inspector").get("/coverage?from=三月")
    assert wrong.status_code == 422 and 'id="from-error"' in wrong.get_data(as_text=True)
    assert browser("student").get(f"/coverage?{WEEK}").status_code == 403
    assert browser("student").get(f"/coverage/gaps.csv?{WEEK}").status_code == 403
