"""POST /briefings for inspection rounds, by id."""
from __future__ import annotations

from datetime import datetime

import pytest
from places_helpers import build_places


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def test_a_briefing_for_a_round_by_id_and_an_unknown_id_refused(places, as_):
    rid = as_("inspector").post("/rounds", json={"name": "食品安全专项巡查", "level": "department",
                                                  "kind": "食堂"}).get_json()["id"]
    as_("inspector").post(f"/rounds/{rid}/start")
    inside = as_("inspector").post("/findings", json={"title": "留样不规范", "category": "食品安全",
                                                       "place": "C1-1F", "round": rid}).get_json()
    as_("inspector").post("/findings", json={"title": "别的问题", "category": "卫生", "place": "C1-1F"})
    today = datetime.now(places.store.calendar.zone).date().isoformat()
    for rounds in ([rid], [str(rid)]):
        made = as_("inspector").post("/briefings", json={"from": today, "to": today, "rounds": rounds})
        assert made.status_code == 201, made.get_json()
        assert made.get_json()["rounds"] == [str(rid)]
        detail = as_("admin").get(f"/briefings/{made.get_json()['id']}").get_json()
        assert detail["content"]["finding_ids"] == [inside["id"]]
    before = len(as_("admin").get("/briefings").get_json())
    for bad, named in (([rid + 1000], str(rid + 1000)), (["食品安全专项巡查"], "食品安全专项巡查")):
        refused = as_("inspector").post("/briefings", json={"from": today, "to": today, "rounds": bad})
        assert refused.status_code == 422 and named in refused.get_json()["errors"]["round"]
    for bad in ([0], [True], [{"id": 1}], [""]):
        assert as_("inspector").post("/briefings", json={"from": today, "to": today,
                                                          "rounds": bad}).status_code == 422
    assert len(as_("admin").get("/briefings").get_json()) == before  # nothing drafted


def test_the_rounds_field_is_documented_as_an_id_or_a_name(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    draft = spec["components"]["schemas"]["Draft"]["properties"]["rounds"]["items"]
    assert {alt["type"] for alt in draft["oneOf"]} == {"integer", "string"}
