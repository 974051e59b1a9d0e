"""The closed loop over HTTP: scorecards and the ranking, sanctions, commendations, filters and notifications."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from http_helpers import fire, report

from engine import services, timers
from engine.db import utcnow


def period(campus) -> str:
    """A query string for the three campus days around today (every finding reported in a test falls in it)."""
    today = datetime.now(campus.store.calendar.zone).date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


def score(caller, campus, unit="FOOD") -> float:
    response = caller.get(f"/units/{unit}/scorecard?{period(campus)}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["score"]


def escalated(as_, **fields) -> dict:
    """A finding reported and escalated (督办): the state the shipped workflow sanctions from."""
    finding = report(as_("inspector"), **fields)
    response = fire(as_("inspector"), finding["id"], "escalate", {"reason": "多次督促未整改"})
    assert response.status_code == 200, response.get_json()
    return finding


def sanction(caller, finding_ids, **fields):
    body = {"findings": finding_ids, "kind": "deduction", "points": 3, "decision": "通报批评并扣分", **fields}
    return caller.post("/sanctions", json=body)


def commend(caller, **fields):
    body = {"unit": "FOOD", "location": "二食堂后厨", "text": "后厨分区清晰，台账完整", "points": 2, **fields}
    return caller.post("/commendations", json=body)


def read_csv(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_a_sanction_and_a_commendation_move_the_scorecard_by_exactly_their_points(as_, campus):
    finding = escalated(as_)
    before = score(as_("leader"), campus)
    created = sanction(as_("leader"), [finding["id"]], points=3.5)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["unit"] == "FOOD" and created.get_json()["findings"] == [finding["id"]]
    assert as_("leader").get(created.headers["Location"].removeprefix("/api/v1")).get_json() == created.get_json()
    assert score(as_("leader"), campus) == pytest.approx(before - 3.5)
    praised = commend(as_("inspector"), points=2)
    assert praised.status_code == 201, praised.get_json()
    shown = as_("food").get(praised.headers["Location"].removeprefix("/api/v1")).get_json()
    assert shown["text"] == "后厨分区清晰，台账完整" and shown["unit"] == "FOOD"
    card = as_("leader").get(f"/units/FOOD/scorecard?{period(campus)}").get_json()
    assert card["score"] == pytest.approx(before - 3.5 + 2)
    assert (card["received"], card["sanctions"], card["sanction_points"]) == (1, 1, 3.5)
    assert (card["commendations"], card["commendation_points"]) == (1, 2)


def test_ranking_orders_units_best_first_and_equal_scores_share_a_rank(as_, campus):
    escalated(as_)
    commend(as_("inspector"), points=5)
    sanction(as_("leader"), [escalated(as_, unit="PROP")["id"]], points=5)
    escalated(as_, unit="ENERGY"), escalated(as_, unit="PROP-DORM")
    response = as_("food").get(f"/scorecards?{period(campus)}")  # a centre reads the published ranking too
    assert response.status_code == 200
    cards = response.get_json()
    assert [c["unit"] for c in cards] == ["FOOD", "ENERGY", "PROP-DORM", "PROP", "GAD"]
    assert [c["score"] for c in cards[:4]] == [25, 20, 20, 15]
    assert [c.get("rank") for c in cards] == [1, 2, 2, 4, None]
    # the inspecting department found everything and was found nothing: not rated, not ranked first with 100
    assert (cards[-1]["rated"], cards[-1]["score"]) == (False, None)


def test_a_units_scorecard_includes_the_units_below_it_unless_asked_not_to(as_, campus):
    escalated(as_, unit="PROP-DORM")
    whole = as_("prop").get(f"/units/PROP/scorecard?{period(campus)}").get_json()
    own = as_("prop").get(f"/units/PROP/scorecard?{period(campus)}&subunits=false").get_json()
    assert (whole["received"], whole["subunits"], whole["rated"]) == (1, ["PROP-DORM"], True)
    assert (own["received"], own["subunits"], own["rated"], own["score"]) == (0, [], False, None)
    lines = {c["unit"]: c for c in as_("leader").get(f"/scorecards?{period(campus)}").get_json()}
    assert lines["PROP"]["received"] == 0 and lines["PROP-DORM"]["received"] == 1  # no finding on two lines
    wide = {c["unit"]: c for c in as_("leader").get(f"/scorecards?{period(campus)}&subunits=true").get_json()}
    assert wide["PROP"]["received"] == wide["GAD"]["received"] == 1


def test_scorecard_and_sanction_csv_keep_chinese_text_behind_a_bom(as_, campus):
    finding = escalated(as_)
    sanction(as_("leader"), [finding["id"]], decision="=责令整改，通报全校")
    rows = read_csv(as_("auditor").get(f"/scorecards?{period(campus)}&format=csv"))
    header, lines = rows[0], {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header[:3] == ["rank", "unit", "name"] and len(lines) == 5
    assert lines["FOOD"]["name"] == "饮食服务中心" and lines["FOOD"]["sanction_points"] == "3.0"
    one = read_csv(as_("food").get(f"/units/FOOD/scorecard?{period(campus)}&format=csv"))
    assert len(one) == 2 and one[1][2] == "饮食服务中心"
    rows = read_csv(as_("leader").get("/sanctions?format=csv&unit=FOOD"))
    line = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2 and line["findings"] == str(finding["id"])
    assert line["decision"] == "'=责令整改，通报全校"  # a formula-like cell is kept as text


@pytest.mark.parametrize(("who", "unit", "status"), [
    ("food", "FOOD", 200), ("prop", "PROP-DORM", 200), ("food", "PROP", 404), ("dorm", "PROP", 404),
    ("auditor", "ENERGY", 200), ("inspector", "GAD", 200), ("student", "FOOD", 403), ("leader", "NOWHERE", 404),
])
def test_who_may_read_a_scorecard(as_, campus, who, unit, status):
    response = as_(who).get(f"/units/{unit}/scorecard?{period(campus)}")
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["unit"] == unit
    else:
        assert response.mimetype == "application/problem+json"


def test_the_public_may_not_read_the_ranking(as_, campus):
    assert as_("student").get(f"/scorecards?{period(campus)}").status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-13-01&to=2026-12-31", "from"), ("from=2026-03-01", "to"), ("from=2026-03-31&to=2026-03-01", "to"),
    ("from=0001-01-01&to=2026-03-01", "from"), ("from=2026-03-01&to=2026-03-31&format=xls", "format"),
])
def test_bad_periods_are_422_naming_the_field(as_, query, field):
    for path in ("/units/FOOD/scorecard", "/scorecards"):
        response = as_("leader").get(f"{path}?{query}")
        assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize(("change", "field"), [
    ({"findings": []}, "findings"), ({"findings": None}, "findings"), ({"findings": [2**31 - 1]}, "findings"),
    ({"kind": "flogging"}, "kind"), ({"points": 101}, "points"), ({"amount": -1}, "amount"),
    ({"decision": None}, "decision"), ({"contract": "x" * 101}, "contract"),
])
def test_bad_sanctions_are_422_naming_the_field_and_store_nothing(as_, change, field):
    finding = escalated(as_)
    response = sanction(as_("leader"), [finding["id"]], **change)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert as_("admin").get("/sanctions").get_json()["items"] == []


def test_a_sanction_holds_one_unit_and_only_leaders_or_admins_decide_it(as_):
    food, prop = escalated(as_), escalated(as_, unit="PROP")
    mixed = sanction(as_("leader"), [food["id"], prop["id"]])
    assert mixed.status_code == 422 and "findings" in mixed.get_json()["errors"]
    for who in ("food", "inspector", "auditor"):
        assert sanction(as_(who), [food["id"]]).status_code == 403
    hidden = sanction(as_("student"), [food["id"]])  # a finding the caller cannot see is not found
    assert hidden.status_code == 422 and "findings" in hidden.get_json()["errors"]
    assert as_("admin").get("/sanctions").get_json()["items"] == []
    assert sanction(as_("admin"), [food["id"]]).status_code == 201


@pytest.mark.parametrize(("change", "field"), [
    ({"unit": "NOWHERE"}, "unit"), ({"points": 101}, "points"), ({"text": ""}, "text"),
    ({"location": None}, "location"), ({"attachment_ids": [77]}, "attachment_ids"),
])
def test_bad_commendations_are_422_naming_the_field_and_store_nothing(as_, change, field):
    response = commend(as_("inspector"), **change)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert as_("admin").get("/commendations").get_json()["items"] == []


def test_commendations_need_a_commendation_role_and_are_listed_per_unit(as_):
    for who in ("food", "auditor", "student"):
        assert commend(as_(who)).status_code == 403
    assert commend(as_("leader"), unit="PROP-DORM").status_code == 201
    assert commend(as_("inspector")).status_code == 201
    assert [c["unit"] for c in as_("prop").get("/commendations").get_json()["items"]] == ["PROP-DORM"]
    assert [c["unit"] for c in as_("admin").get("/commendations?unit=FOOD").get_json()["items"]] == ["FOOD"]
    assert as_("admin").get("/commendations?unit=NOWHERE").status_code == 422


def test_sanctions_are_filtered_and_paged(as_):
    for points in (1, 2, 3):
        sanction(as_("leader"), [escalated(as_)["id"]], points=points)
    sanction(as_("leader"), [escalated(as_, unit="PROP")["id"]], kind="warning")
    first = as_("auditor").get("/sanctions?unit=FOOD&per_page=2").get_json()
    assert [s["points"] for s in first["items"]] == [3, 2]  # newest first
    second = as_("auditor").get(first["next"].removeprefix("/api/v1")).get_json()
    assert [s["points"] for s in second["items"]] == [1] and second["next"] is None
    assert [s["unit"] for s in as_("leader").get("/sanctions?kind=warning").get_json()["items"]] == ["PROP"]
    assert [s["unit"] for s in as_("prop").get("/sanctions").get_json()["items"]] == ["PROP"]
    assert as_("leader").get("/sanctions?from=2000-01-01&to=2000-12-31").get_json()["items"] == []
    for query, field in (("unit=NOWHERE", "unit"), ("from=yesterday", "from"), ("from=2026-03-02&to=2026-03-01", "to")):
        response = as_("leader").get(f"/sanctions?{query}")
        assert response.status_code == 422 and field in response.get_json()["errors"]


def test_repeat_filter_and_recurrence_links_on_the_finding(as_):
    first = report(as_("inspector"), location="二食堂 3号窗口")
    again = report(as_("inspector"), location="二食堂5号窗口")  # the same building: a repeat (屡查屡犯)
    other = report(as_("inspector"))
    for finding in (first, again, other):  # the rules link a finding when it is accepted into the loop
        assert fire(as_("inspector"), finding["id"], "assign").status_code == 200
    repeats = {f["id"] for f in as_("inspector").get("/findings?repeat=true").get_json()["items"]}
    others = {f["id"] for f in as_("inspector").get("/findings?repeat=false").get_json()["items"]}
    assert repeats == {again["id"]} and others == {first["id"], other["id"]}
    shown = as_("food").get(f"/findings/{again['id']}").get_json()
    assert (shown["repeat_of"], shown["repeat_count"], shown["repeats"]) == (first["id"], 1, [first["id"]])
    earlier = as_("food").get(f"/findings/{first['id']}").get_json()
    assert (earlier["repeat_of"], earlier["repeats"], earlier["repeated_by"]) == (None, [], [again["id"]])


def test_overdue_filter_and_due_fields_on_the_finding(as_, campus):
    with campus.store.uow() as uow:
        late = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="路灯不亮", category="照明", location="东门路灯", unit="ENERGY"), now=utcnow() - timedelta(days=20))
        uow.commit()
        late_id = late.id
    fresh = report(as_("inspector"))
    overdue = {f["id"] for f in as_("leader").get("/findings?overdue=true").get_json()["items"]}
    in_time = {f["id"] for f in as_("leader").get("/findings?overdue=false").get_json()["items"]}
    assert overdue == {late_id} and in_time == {fresh["id"]}
    shown = as_("leader").get(f"/findings/{late_id}").get_json()
    assert shown["overdue"] is True and datetime.fromisoformat(shown["due_at"]) < utcnow()
    assert (shown["failed_verifications"], shown["reopenings"], shown["overdue_count"]) == (0, 0, 0)
    assert shown["closed_on_time"] is None
    assert as_("leader").get(f"/findings/{fresh['id']}").get_json()["overdue"] is False


def test_notifications_after_a_sweep_reach_the_unit_responsible(as_, campus):
    finding = report(as_("inspector"), title="三食堂排烟罩油污")
    assert as_("food").get("/notifications").get_json() == []
    result = timers.sweep(campus.store, now=utcnow() + timedelta(days=30))
    assert result.fired == 1
    notices = as_("food").get("/notifications").get_json()
    assert [(n["finding_id"], n["kind"], n["unit"]) for n in notices] == [(finding["id"], "overdue", "FOOD")]
    assert "三食堂排烟罩油污" in notices[0]["message"]["zh"] and notices[0]["due_at"]
    assert as_("prop").get("/notifications").get_json() == []
    assert len(as_("inspector").get("/notifications?unit=FOOD").get_json()) == 1
    assert as_("inspector").get("/notifications?since=2999-01-01").get_json() == []
    assert as_("food").get(f"/findings/{finding['id']}").get_json()["overdue_count"] == 1
    for query, field in (("unit=NOWHERE", "unit"), ("since=soon", "since"), ("limit=0", "limit")):
        response = as_("inspector").get(f"/notifications?{query}")
        assert response.status_code == 422 and field in response.get_json()["errors"]


def test_units_are_listed_with_their_parent(as_):
    units = {u["code"]: u for u in as_("student").get("/units").get_json()}
    assert units["PROP-DORM"] == {"code": "PROP-DORM", "name": "物业服务中心宿管科", "name_en": "Dormitory section",
                                  "parent": "PROP", "calendar": None}
    assert units["GAD"]["parent"] is None and len(units) == 5
    assert as_(None).get("/units").status_code == 401


def test_the_loop_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/units/{code}/scorecard", "/api/v1/scorecards", "/api/v1/sanctions",
                 "/api/v1/commendations", "/api/v1/notifications", "/api/v1/units"):
        assert path in paths
    assert {"get", "post"} <= set(paths["/api/v1/sanctions"])


def test_a_sanction_follows_the_workflow_only_escalated_findings_can_be_sanctioned(as_):
    dismissed = report(as_("inspector"))
    assert fire(as_("inspector"), dismissed["id"], "dismiss", {"reason": "不属实"}).status_code == 200
    for finding in (dismissed, report(as_("inspector"))):
        refused = sanction(as_("leader"), [finding["id"]])
        assert refused.status_code == 409, refused.get_json()
        assert "sanction" in refused.get_json()["detail"]
    assert as_("admin").get("/sanctions").get_json()["items"] == []


def test_a_double_click_on_a_sanction_deducts_once(as_, campus):
    a, b = escalated(as_), escalated(as_)
    body = {"kind": "deduction", "findings": [a["id"], b["id"]], "decision": "扣2分", "points": 2}
    key = {"Idempotency-Key": "sanction-2026-03-0001"}
    first = as_("leader").post("/sanctions", json=body, headers=key)
    again = as_("leader").post("/sanctions", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201) and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    without_key = as_("leader").post("/sanctions", json=body)  # the findings left `escalated` with the first
    assert without_key.status_code == 409 and without_key.get_json()["event"] == "sanction"
    assert [s["points"] for s in as_("admin").get("/sanctions").get_json()["items"]] == [2]
    for finding in (a, b):  # the endpoint means what the `sanction` event means
        assert as_("leader").get(f"/findings/{finding['id']}").get_json()["state"]["name"] == "rectifying"
    assert score(as_("leader"), campus) == pytest.approx(0 + 0 + 10 + 10 - 2)


def test_a_reporter_does_not_learn_ids_of_findings_it_cannot_see_through_links(as_):
    kitchen = report(as_("inspector"), location="二食堂后厨")
    assert fire(as_("inspector"), kitchen["id"], "assign").status_code == 200
    door = report(as_("student"), location="二食堂 门口", source="public")
    shown = as_("student").get(f"/findings/{door['id']}").get_json()
    assert (shown["repeat_of"], shown["repeats"]) == (None, [])  # a bare report links to nothing
    assert fire(as_("inspector"), door["id"], "assign").status_code == 200  # accepted: now it is linked
    seen_by_inspector = as_("inspector").get(f"/findings/{door['id']}").get_json()
    assert (seen_by_inspector["repeat_of"], seen_by_inspector["repeats"]) == (kitchen["id"], [kitchen["id"]])
    shown = as_("student").get(f"/findings/{door['id']}").get_json()
    assert (shown["repeat_of"], shown["repeats"]) == (None, [])  # that one answers 404 to the student
    assert as_("student").get(f"/findings/{kitchen['id']}").status_code == 404
    listed = as_("student").get("/findings").get_json()["items"]
    assert [(f["id"], f["repeat_of"]) for f in listed] == [(door["id"], None)]
