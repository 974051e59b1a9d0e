"""Places, rounds, checks and coverage over HTTP, and findings that name their place and round."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from places_helpers import build_places


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def today(campus):
    return datetime.now(campus.store.calendar.zone).date()


def test_places_read_as_a_list_a_tree_and_one_place(places, as_):
    listed = as_("student").get("/places?parent=D9")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.get_json()][:3] == ["D9-3F", "D9-3F-WC", "D9-3F-301"]
    tree = as_("inspector").get("/places?tree=true").get_json()
    assert [p["code"] for p in tree] == ["MAIN"]
    assert [c["code"] for c in tree[0]["children"]] == ["C1", "D9", "D3", "EAST"]
    one = as_("food").get("/places/C1").get_json()
    assert one["kind_label"] == {"zh": "食堂", "en": "Canteen"} and one["unit"] == "FOOD"
    assert [p["name"] for p in one["periods"]] == ["breakfast", "lunch", "dinner", "late"]
    assert one["periods"][3]["hours"]["weekend"] is None
    filtered = as_("food").get("/places?kind=学生公寓&q=9号").get_json()
    assert [p["code"] for p in filtered] == ["D9"]
    assert as_("food").get("/places/NOPE").status_code == 404


def test_administrators_create_change_and_deactivate_places(places, as_):
    body = {"code": "C2", "name_zh": "二食堂", "kind": "canteen", "parent": "MAIN", "unit": "FOOD"}
    assert as_("inspector").post("/places", json=body).status_code == 403
    created = as_("admin").post("/places", json=body)
    assert created.status_code == 201 and created.headers["Location"].endswith("/places/C2")
    bad = as_("admin").post("/places", json={**body, "code": "C3", "kind": "食唐"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    changed = as_("admin").open("PATCH", "/places/C2", json={"name_en": "Canteen No. 2"})
    assert changed.get_json()["name_en"] == "Canteen No. 2"
    gone = as_("admin").post("/places/D9/deactivate")
    assert gone.get_json() == {"code": "D9", "deactivated": 6}
    assert as_("inspector").get("/places/D9-3F").get_json()["active"] is False
    refused = as_("inspector").post("/findings", json={"title": "t", "category": "卫生", "place": "D9-3F"})
    assert refused.status_code == 422 and "deactivated" in refused.get_json()["errors"]["place"]


def test_a_finding_names_its_place_and_the_unit_follows(places, as_):
    answer = as_("inspector").post("/findings", json={"title": "卫生间地面积水", "category": "卫生",
                                                       "place": "D9-3F-WC", "location": "东侧卫生间靠窗处"})
    assert answer.status_code == 201, answer.get_json()
    finding = answer.get_json()
    assert (finding["place"], finding["unit"]["code"], finding["location"], finding["found_by"]) == \
        ("D9-3F-WC", "PROP-DORM", "东侧卫生间靠窗处", "department")
    energy = as_("inspector").post("/findings", json={"title": "热水不热", "category": "设施设备",
                                                       "place": "D9-3F-WC", "unit": "ENERGY"}).get_json()
    assert energy["unit"]["code"] == "ENERGY"  # cross-cutting responsibility named explicitly
    assert energy["location"] == "学生公寓9号楼3层东侧卫生间"
    public = as_("student").post("/findings", json={"title": "灯不亮", "category": "设施设备",
                                                     "place": "D9-3F-WC", "unit": "ENERGY"}).get_json()
    assert public["unit"]["code"] == "PROP-DORM"  # the public's reports go to the place's unit
    listed = as_("inspector").get("/findings").get_json()["items"]
    assert all("place" in f and "inspection_round" in f for f in listed)


def test_a_round_over_http_with_checks_findings_and_coverage(places, as_):
    day = today(places) - timedelta(days=1)  # lunch yesterday is in the past whatever the time now
    planned = as_("inspector").post("/rounds", json={"name": "食品安全专项巡查", "level": "department",
                                                      "kind": "食堂", "inspectors": ["inspector", "admin"]})
    assert planned.status_code == 201, planned.get_json()
    rid = planned.get_json()["id"]
    early = as_("inspector").post(f"/rounds/{rid}/checks", json={"place": "C1"})
    assert early.status_code == 409  # planned, not started
    assert as_("inspector").post(f"/rounds/{rid}/start").get_json()["state"] == "in_progress"
    outside = as_("inspector").post(f"/rounds/{rid}/checks", json={"place": "D9"})
    assert outside.status_code == 422 and "not among the places" in outside.get_json()["errors"]["place"]
    finding = as_("inspector").post("/findings", json={"title": "留样不规范", "category": "食品安全",
                                                        "place": "C1-1F", "round": rid}).get_json()
    assert (finding["round"], finding["inspection_round"], finding["source"]) == (rid, "食品安全专项巡查", "department")
    ok = as_("inspector").post(f"/rounds/{rid}/checks", json={"place": "C1", "at": f"{day}T12:00:00"})
    found = as_("inspector").post(f"/rounds/{rid}/checks", json={"place": "C1-1F", "at": f"{day}T12:10:00",
                                                                  "findings": [finding["id"]]})
    assert ok.status_code == found.status_code == 201, found.get_json()
    assert (ok.get_json()["period"], ok.get_json()["result"]) == ("lunch", "ok")
    detail = as_("food").get(f"/rounds/{rid}").get_json()
    assert [c["result"] for c in detail["checks"]] == ["ok", "findings"]
    assert detail["checks"][1]["findings"] == [finding["id"]] and detail["findings"][0]["id"] == finding["id"]
    assert as_("inspector").post(f"/rounds/{rid}/finish").get_json()["state"] == "done"
    assert as_("inspector").get("/rounds?state=done").get_json()[0]["checks_count"] == 2
    span = f"from={day - timedelta(days=day.weekday())}&to={day - timedelta(days=day.weekday()) + timedelta(days=6)}"
    rows = as_("leader").get(f"/coverage?{span}&kind=canteen").get_json()
    lunch = next(r for r in rows if (r["place"], r["period"]) == ("C1", "lunch"))
    assert lunch["checks"] == {"department": 2, "centre": 0}
    assert next(t for t in lunch["targets"] if t["name"] == "食堂每餐每周督查")["met"] is True
    sheet = list(csv.reader(io.StringIO(as_("leader").get(f"/coverage/gaps?{span}&format=csv").text.lstrip("\ufeff"))))
    assert sheet[0][:5] == ["place", "name", "kind", "unit", "period"]
    assert ["C1", "dinner"] in [row[::4][:1] + row[4:5] for row in sheet[1:]]
    assert as_("student").get(f"/coverage?{span}").status_code == 403


def test_centre_users_see_their_own_rounds_and_department_rounds(places, as_):
    own = as_("food").post("/rounds", json={"name": "饮食中心周自查", "level": "centre", "unit": "FOOD"})
    assert own.status_code == 201, own.get_json()
    other = as_("prop").post("/rounds", json={"name": "物业自查", "level": "centre", "unit": "PROP"}).get_json()
    assert as_("food").get(f"/rounds/{other['id']}").status_code == 404
    assert [r["name"] for r in as_("food").get("/rounds").get_json()] == ["饮食中心周自查"]
    assert as_("food").post("/rounds", json={"name": "x", "level": "department"}).status_code == 403


def test_the_scorecard_shows_the_two_level_credit(places, as_):
    day = today(places)
    breakdown = as_("leader").get(f"/units/FOOD/scorecard?from={day}&to={day}").get_json()
    assert {"self_corrected", "self_correction_points", "missed", "missed_points"} <= set(breakdown)
