"""Reporting, reading and listing findings: fields, unit scoping, filters and pagination."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from http_helpers import fire, report

from engine.models import Finding


def test_report_answers_201_with_location_etag_and_the_finding(as_):
    body = {"title": "一食堂后厨排水沟堵塞", "description": "污水外溢，气味明显。", "category": "卫生",
            "location": "一食堂后厨", "unit": "FOOD", "severity": "high", "inspection_round": "2026年第12期"}
    response = as_("inspector").post("/findings", json=body)
    assert response.status_code == 201
    finding = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/findings/{finding['id']}")
    assert response.headers["ETag"] == '"1"'
    for key, value in body.items():
        if key != "unit":
            assert finding[key] == value
    assert finding["unit"] == {"code": "FOOD", "name": "饮食服务中心", "name_en": "Catering Service Centre"}
    assert finding["state"] == {"name": "reported", "label": {"zh": "已上报", "en": "Reported"},
                                "final": False, "closed": False}
    assert finding["workflow"] == {"name": "finding", "version": 1}
    assert finding["source"] == "department" and finding["reporter"] == "inspector"
    assert finding["due_at"] and finding["overdue"] is False and finding["version"] == 1


def test_chinese_text_round_trips_byte_exact(as_):
    title = "３号楼\u3000卫生间：水龙头「漏水」——已持续２天！🚰"
    description = "学生反映：\n1. 夜间滴水声\n2. 地面积水\u200b（隐形空格）"
    created = report(as_("inspector"), title=title, description=description, unit="PROP")
    again = as_("inspector").get(f"/findings/{created['id']}").get_json()
    assert again["title"].encode("utf-8") == title.encode("utf-8")
    assert again["description"].encode("utf-8") == description.encode("utf-8")


@pytest.mark.parametrize(("change", "field"), [
    ({"title": ""}, "title"), ({"title": None}, "title"), ({"severity": "urgent"}, "severity"),
    ({"source": "rumour"}, "source"), ({"unit": "NOWHERE"}, "unit"), ({"workflow": "nosuch"}, "workflow"),
    ({"title": "x" * 301}, "title"), ({"location": "a\u0000b"}, "location"),
])
def test_bad_report_fields_are_422_naming_the_field_and_store_nothing(as_, campus, change, field):
    body = {"title": "漏水", "category": "维修", "location": "3号楼", "unit": "PROP", **change}
    response = as_("inspector").post("/findings", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    with campus.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 0


def test_missing_required_fields_are_each_named(as_):
    response = as_("inspector").post("/findings", json={"description": "只有描述"})
    assert response.status_code == 422
    assert {"title", "category", "location", "unit"} <= set(response.get_json()["errors"])


def test_auditor_may_not_report(as_):
    response = as_("auditor").post("/findings", json={"title": "t", "category": "c", "location": "l",
                                                       "unit": "FOOD"})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_centre_may_not_report_for_another_centre(as_):
    assert as_("food").post("/findings", json={"title": "t", "category": "c", "location": "l",
                                               "unit": "PROP"}).status_code == 403


def test_detail_lists_the_events_the_caller_may_fire_with_fields_and_labels(as_):
    finding = report(as_("inspector"))
    inspector = as_("inspector").get(f"/findings/{finding['id']}")
    assert inspector.headers["ETag"] == '"1"'
    events = {e["name"]: e for e in inspector.get_json()["events"]}
    assert set(events) == {"assign", "dismiss", "escalate"}
    assert events["dismiss"]["label"] == {"zh": "不予受理", "en": "Dismiss"}
    reason = events["dismiss"]["fields"][0]
    assert (reason["name"], reason["type"], reason["required"]) == ("reason", "text", True)
    assert reason["label"] == {"zh": "理由", "en": "Reason"}
    assert as_("food").get(f"/findings/{finding['id']}").get_json()["events"] == []
    assert fire(as_("inspector"), finding["id"], "assign").status_code == 200
    food_events = [e["name"] for e in as_("food").get(f"/findings/{finding['id']}").get_json()["events"]]
    assert set(food_events) == {"respond", "rectify", "refer"}
    assert as_("auditor").get(f"/findings/{finding['id']}").get_json()["events"] == []


def test_centre_sees_its_unit_and_those_below_and_nothing_else(as_):
    dorm = report(as_("inspector"), unit="PROP-DORM", title="宿舍")
    food = report(as_("inspector"), unit="FOOD", title="食堂")
    assert as_("prop").get(f"/findings/{dorm['id']}").status_code == 200
    assert as_("dorm").get(f"/findings/{dorm['id']}").status_code == 200
    for caller, hidden in (("food", dorm), ("prop", food), ("dorm", food)):
        response = as_(caller).get(f"/findings/{hidden['id']}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert as_(caller).get(f"/findings/{hidden['id']}/history").status_code == 404
    assert [f["title"] for f in as_("prop").get("/findings").get_json()["items"]] == ["宿舍"]
    assert [f["title"] for f in as_("food").get("/findings").get_json()["items"]] == ["食堂"]
    assert len(as_("leader").get("/findings").get_json()["items"]) == 2
    assert len(as_("auditor").get("/findings").get_json()["items"]) == 2


def test_centre_cannot_move_another_centres_finding(as_, campus):
    finding = report(as_("inspector"), unit="PROP")
    fire(as_("inspector"), finding["id"], "assign")
    response = fire(as_("food"), finding["id"], "respond", {"plan": "我们来修"})
    assert response.status_code == 404
    assert as_("inspector").get(f"/findings/{finding['id']}").get_json()["state"]["name"] == "assigned"


def test_public_user_sees_only_what_it_reported(as_):
    own = report(as_("student"), title="自习室空调不制冷", unit="ENERGY")
    other = report(as_("inspector"), unit="ENERGY")
    assert own["source"] == "public"
    assert [f["id"] for f in as_("student").get("/findings").get_json()["items"]] == [own["id"]]
    assert as_("student").get(f"/findings/{other['id']}").status_code == 404


def test_unknown_id_is_404(as_):
    assert as_("admin").get("/findings/424242").status_code == 404
    assert as_("admin").get("/findings/99999999999999").status_code == 404


def test_filters(as_, campus):
    inspector = as_("inspector")
    a = report(inspector, title="灯不亮", category="照明", location="图书馆二楼", unit="ENERGY")
    b = report(inspector, title="地面湿滑", category="卫生", location="一食堂一楼", unit="FOOD",
               source="self_inspection")
    c = report(inspector, title="门锁损坏", category="维修", location="10%折扣区_东", unit="PROP-DORM")
    fire(inspector, b["id"], "assign")
    past = datetime.now(UTC) - timedelta(days=3)
    with campus.store.uow() as uow:  # make `a` overdue and reported three days ago
        uow.session.execute(sa.update(Finding).where(Finding.id == a["id"]).values(
            due_at=past, created_at=past))
        uow.commit()

    def ids(query: str) -> set[int]:
        response = inspector.get(f"/findings?{query}")
        assert response.status_code == 200, response.get_json()
        return {f["id"] for f in response.get_json()["items"]}

    assert ids("state=assigned") == {b["id"]}
    assert ids("state=assigned,reported") == {a["id"], b["id"], c["id"]}
    assert ids("unit=PROP") == {c["id"]}
    assert ids("category=卫生") == {b["id"]}
    assert ids("location=图书馆") == {a["id"]}
    assert ids("source=self_inspection") == {b["id"]}
    assert ids("overdue=true") == {a["id"]}
    assert ids("overdue=false") == {b["id"], c["id"]}
    assert ids("q=湿滑") == {b["id"]}
    assert ids("q=10%25") == {c["id"]} and ids("q=%25") == {c["id"]} and ids("q=_") == {c["id"]}
    assert ids(f"reported_to={(past + timedelta(days=1)).date()}") == {a["id"]}
    assert ids(f"reported_from={quote((past + timedelta(days=1)).isoformat())}") == {b["id"], c["id"]}
    assert inspector.get("/findings?unit=NOWHERE").status_code == 422
    assert inspector.get("/findings?sort=colour").status_code == 422
    assert inspector.get("/findings?per_page=0").status_code == 422


def test_per_page_is_capped_at_100(as_, campus):
    from engine import services

    with campus.store.uow() as uow:  # 105 findings, quicker through the service than over HTTP
        for i in range(105):
            services.report_finding(uow, campus.actor("inspector"), services.Report(
                title=f"问题{i}", category="卫生", location=f"食堂{i}号", unit="FOOD"))
        uow.commit()
    body = as_("inspector").get("/findings?per_page=1000").get_json()
    assert len(body["items"]) == 100 and body["next"]
    rest = as_("inspector").get(body["next"].removeprefix("/api/v1")).get_json()
    assert len(rest["items"]) == 5 and rest["next"] is None


@pytest.mark.parametrize("sort", ["-id", "created_at", "-due_at"])
def test_pages_cover_every_finding_once(as_, sort):
    made = {report(as_("inspector"), title=f"问题{i}", unit=("FOOD", "PROP", "ENERGY")[i % 3])["id"]
            for i in range(12)}
    seen, url, pages = [], f"/api/v1/findings?per_page=5&sort={sort}", 0
    while url:
        body = as_("leader").get(url.removeprefix("/api/v1")).get_json()
        seen.extend(f["id"] for f in body["items"])
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == len(made) and set(seen) == made
    if sort == "-id":
        assert seen == sorted(made, reverse=True)


def test_severity_sorts_by_rank_not_alphabetically(as_):
    ids = {severity: report(as_("inspector"), severity=severity)["id"] for severity in ("critical", "low", "high",
                                                                                       "normal")}
    listed = as_("leader").get("/findings?sort=severity&per_page=10").get_json()["items"]
    assert [f["severity"] for f in listed] == ["low", "normal", "high", "critical"]
    listed = as_("leader").get("/findings?sort=-severity&per_page=10").get_json()["items"]
    assert [f["id"] for f in listed] == [ids["critical"], ids["high"], ids["normal"], ids["low"]]


def test_after_a_scope_change_the_list_and_the_detail_agree(as_, campus):
    from shipped_workflows import QUIET_WORKFLOWS

    from engine import admin

    food_v1, prop_v1 = report(as_("inspector"))["id"], report(as_("inspector"), unit="PROP")["id"]
    with campus.store.uow() as uow:  # v2: service centres see every unit's findings (from now on)
        admin.load_workflows(uow, QUIET_WORKFLOWS.replace("scope: unit", "scope: all"), by="test")
        uow.commit()
    prop_v2 = report(as_("inspector"), unit="PROP")["id"]
    listed = {f["id"] for f in as_("food").get("/findings?per_page=100").get_json()["items"]}
    readable = {fid for fid in (food_v1, prop_v1, prop_v2) if as_("food").get(f"/findings/{fid}").status_code == 200}
    # a finding is judged by its own version: PROP's v1 finding stays out of FOOD's reach, its v2 one is in it
    assert listed == readable == {food_v1, prop_v2}
