"""Who may open which page: 404 outside one's reach, 403 for the wrong role, 400 without a CSRF token."""
from __future__ import annotations

import pytest
from page_helpers import csrf

from engine import services


def _report(campus, unit: str, title: str) -> int:
    with campus.store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location=f"{title}现场", unit=unit))
        uow.commit()
        return finding.id


ADMIN_PAGES = ["/workflows", "/workflows/finding", "/workflows/finding/edit", "/workflows/finding/diff",
               "/workflows/finding/migrate", "/admin/users", "/admin/units", "/admin/closed-days"]


@pytest.mark.parametrize("who", ["inspector", "prop", "auditor", "leader"])
def test_administration_pages_are_403_for_others(browser, who):
    client = browser(who)
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "无权操作" in response.get_data(as_text=True)


def test_audit_is_for_auditors_and_administrators(browser):
    for who, status in (("auditor", 200), ("admin", 200), ("inspector", 403), ("food", 403), ("leader", 403)):
        assert browser(who).get("/audit").status_code == status, who
        assert browser(who).get("/audit.csv").status_code == status, who


def test_reporting_is_for_reporters(browser):
    for who, status in (("inspector", 200), ("food", 200), ("student", 200), ("auditor", 403), ("leader", 403)):
        assert browser(who).get("/report").status_code == status, who


def test_scorecards_are_refused_to_the_public(browser):
    assert browser("student").get("/scorecards").status_code == 403
    assert browser("food").get("/scorecards").status_code == 200


def test_a_finding_outside_the_units_reach_is_404_on_every_page(browser, campus):
    prop_id = _report(campus, "PROP", "物业专属问题甲")
    food = browser("food")
    assert food.get(f"/findings/{prop_id}").status_code == 404
    assert food.get(f"/findings/{prop_id}/files/1").status_code == 404
    token = csrf(food, "/")
    answer = food.post(f"/findings/{prop_id}/events/respond", data={"csrf_token": token, "plan": "x", "version": 1})
    assert answer.status_code == 404
    assert browser("prop").get(f"/findings/{prop_id}").status_code == 200
    assert browser("dorm").get(f"/findings/{prop_id}").status_code == 404  # units below do not see up


def test_no_page_shows_another_units_finding(browser, campus):
    _report(campus, "PROP", "物业专属问题乙")
    own = _report(campus, "FOOD", "食堂自己的问题")
    food = browser("food")
    pages = ["/", "/findings", "/findings?q=问题", "/findings?state=reported&sort=due_at", "/findings.csv",
             f"/findings/{own}", "/scorecards"]
    for path in pages:
        text = food.get(path).get_data(as_text=True)
        assert "物业专属问题乙" not in text, path
    assert "食堂自己的问题" in food.get("/findings").get_data(as_text=True)
    assert "物业专属问题乙" in browser("inspector").get("/findings.csv").get_data(as_text=True)


@pytest.mark.parametrize("path,data", [
    ("/login", {"name": "inspector", "password": "x"}),
    ("/logout", {}),
    ("/report", {"title": "t", "unit": "FOOD", "category": "c", "location": "l"}),
    ("/findings/1/events/assign", {"version": "1"}),
    ("/audit/verify", {"finding": "1"}),
    ("/workflows/lint", {"yaml": "x"}),
    ("/workflows/finding/edit", {"yaml": "x"}),
    ("/workflows/finding/migrate", {}),
    ("/admin/users", {"name": "x"}),
    ("/admin/users/food", {"roles": "centre"}),
    ("/admin/users/food/password", {"password": "12345678"}),
    ("/admin/units", {"code": "X", "name": "x"}),
    ("/admin/closed-days", {"day": "2027-01-20"}),
    ("/account/password", {"old": "a", "new": "b", "repeat": "b"}),
])
def test_every_form_is_refused_without_a_csrf_token(browser, campus, path, data):
    _report(campus, "FOOD", "令牌测试")
    response = browser("admin").post(path, data=data)
    assert response.status_code == 400, path
    assert "表单已失效" in response.get_data(as_text=True)


def test_unknown_page_is_a_chinese_page_and_the_api_keeps_problem_json(browser):
    client = browser("inspector")
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
