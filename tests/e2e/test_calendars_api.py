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


def test_a_workflow_lists_the_calendars_its_due_times_may_name(as_):
    detail = as_("food").get("/workflows/finding").get_json()
    calendars = {c["name"]: c for c in detail["calendars"]}
    assert calendars["catering"]["hours"] == "06:00-20:00" and calendars["catering"]["days"] == "all_but_holidays"
    assert calendars["round_the_clock"] == {"name": "round_the_clock", "hours": "00:00-24:00", "days": "all",
                                            "label": {"zh": "全天候（7×24 小时）", "en": "Round the clock (24×7)"}}
    states = {s["name"]: s for s in detail["states"]}
    assert states["verifying"]["due"] == "2 working days on office" and states["rectifying"]["due"] == "5 working days"
