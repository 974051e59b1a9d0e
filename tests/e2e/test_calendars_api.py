"""The API shows which calendar each finding's deadline was counted on, and each unit's default calendar."""
from __future__ import annotations

from http_helpers import fire, report

from engine import admin


def test_a_finding_says_which_calendar_its_deadline_was_counted_on(as_, campus):
    with campus.store.uow() as uow:
        admin.set_unit_calendar(uow, "FOOD", "catering")
        uow.commit()
    created = report(as_("inspector"))
    assert created["due_calendar"] == "office"  # `reported` is counted on office hours, whoever answers
    assert fire(as_("inspector"), created["id"], "assign").status_code == 200
    assigned = as_("food").get(f"/findings/{created['id']}").get_json()
    assert assigned["state"]["name"] == "assigned" and assigned["due_calendar"] == "catering"
    listed = as_("food").get("/findings?state=assigned").get_json()["items"]
    assert [(f["id"], f["due_calendar"]) for f in listed] == [(created["id"], "catering")]
    units = {u["code"]: u["calendar"] for u in as_("inspector").get("/units").get_json()}
    assert units["FOOD"] == "catering" and units["PROP"] is None
