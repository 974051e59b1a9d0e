"""巡查轮次 pages: plan, start, record checks (ok, or with findings reported in the round), reach and roles."""
from __future__ import annotations

import re

import pytest
from page_helpers import csrf
from places_helpers import build_places

from engine.models import Check, Finding


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def plan(client, token, **fields) -> int:
    data = {"csrf_token": token, "name": "第10周食堂督查", "level": "department", "scope": "subtree",
            "target": "C1", **fields}
    response = client.post("/rounds", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/rounds/(\d+)$", response.headers["Location"]).group(1))


def test_an_inspector_plans_starts_and_records_checks(browser, places):
    inspector = browser("inspector")
    token = csrf(inspector, "/rounds")
    round_id = plan(inspector, token)
    page = inspector.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "第10周食堂督查" in page and "计划中" in page and "记录检查" not in page
    assert inspector.post(f"/rounds/{round_id}/start", data={"csrf_token": token}).status_code == 303
    page = inspector.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "进行中" in page and 'value="C1-W1"' in page  # the picker offers the planned subtree
    ok = inspector.post(f"/rounds/{round_id}/checks", data={"csrf_token": token, "place": "C1-W1", "result": "ok"})
    assert ok.status_code == 303
    # A problem: reported in the round from the link on its page, then ticked in the check.
    form = inspector.get(f"/report?round={round_id}&place=C1-W2").get_data(as_text=True)
    assert f'name="round" value="{round_id}"' in form and 'value="C1-W2"' in form
    reported = inspector.post("/report", data={"csrf_token": token, "round": str(round_id), "place": "C1-W2",
                                               "title": "二号窗口地面湿滑", "category": "安全隐患", "location": "",
                                               "unit": "", "severity": "normal", "token": "t-1"})
    assert reported.status_code == 303 and reported.headers["Location"].endswith(f"/rounds/{round_id}")
    with places.store.uow(write=False) as uow:
        finding = uow.session.query(Finding).filter_by(title="二号窗口地面湿滑").one()
        assert finding.round_id == round_id and finding.unit_id is not None and finding.source == "department"
        fid = finding.id
    page = inspector.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert f'name="findings" value="{fid}"' in page
    checked = inspector.post(f"/rounds/{round_id}/checks", data={"csrf_token": token, "place": "C1-W2",
                                                               "result": "findings", "findings": str(fid)})
    assert checked.status_code == 303
    with places.store.uow(write=False) as uow:
        results = sorted(c.result for c in uow.session.query(Check).filter_by(round_id=round_id))
        assert results == ["findings", "ok"]
        assert uow.session.get(Finding, fid).check_id is not None
    page = inspector.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "未发现问题" in page and "发现问题" in page and "二号窗口地面湿滑" in page


def test_check_errors_appear_beside_their_fields_in_chinese(browser, places):
    inspector = browser("inspector")
    token = csrf(inspector, "/rounds")
    round_id = plan(inspector, token)
    early = inspector.post(f"/rounds/{round_id}/checks", data={"csrf_token": token, "place": "C1-W1"})
    assert early.status_code == 422 and "先开始巡查" in early.get_data(as_text=True)
    inspector.post(f"/rounds/{round_id}/start", data={"csrf_token": token})
    cases = [({"place": "NOPE"}, "没有编码为 &#39;NOPE&#39; 的点位", 'id="place-error"'),
             ({"place": "D9-3F-WC"}, "不在本轮次计划巡查的范围内", 'id="place-error"'),
             ({"place": "C1-W1", "result": "findings"}, "请勾选此次检查发现的问题", 'id="findings-error"'),
             ({"place": ""}, "必填", 'id="place-error"'),
             ({"place": "C1-W1", "at": "昨天"}, "须为日期时间", 'id="at-error"')]
    for data, message, where in cases:
        response = inspector.post(f"/rounds/{round_id}/checks", data={"csrf_token": token, **data})
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and message in text and where in text, data
    with places.store.uow(write=False) as uow:
        assert uow.session.query(Check).count() == 0
    bad_plan = inspector.post("/rounds", data={"csrf_token": token, "name": "", "level": "centre",
                                               "scope": "subtree", "target": ""})
    text = bad_plan.get_data(as_text=True)
    assert bad_plan.status_code == 422 and 'id="target-error"' in text and "必填" in text


def test_rounds_outside_reach_are_404_and_the_wrong_role_is_403(browser, places):
    prop = browser("prop")
    token = csrf(prop, "/rounds")
    form = prop.get("/rounds").get_data(as_text=True)  # a centre's plan form starts as its own self-inspection
    assert '<option value="centre" selected>' in form and '<option value="PROP" selected>' in form
    own = plan(prop, token, name="物业中心宿舍自查", level="centre", unit="PROP", target="D9")
    inspector = browser("inspector")
    department = plan(inspector, csrf(inspector, "/rounds"), name="总务部东门夜查", target="EAST")
    food = browser("food")
    assert food.get(f"/rounds/{own}").status_code == 404
    assert food.post(f"/rounds/{own}/start", data={"csrf_token": csrf(food, "/rounds")}).status_code == 404
    listing = food.get("/rounds").get_data(as_text=True)
    assert "总务部东门夜查" in listing and "物业中心宿舍自查" not in listing
    assert browser("dorm").get(f"/rounds/{own}").status_code == 404  # units below do not see up
    assert prop.get(f"/rounds/{own}").status_code == 200 and food.get(f"/rounds/{department}").status_code == 200
    # A centre may not plan the department's rounds nor another centre's; the leader plans none.
    refused = food.post("/rounds", data={"csrf_token": csrf(food, "/rounds"), "name": "越权", "level": "centre",
                                         "unit": "PROP"})
    assert refused.status_code == 403
    leader = browser("leader")
    assert leader.post("/rounds", data={"csrf_token": csrf(leader, "/rounds"), "name": "x",
                                        "level": "department"}).status_code == 403
    assert leader.post(f"/rounds/{department}/start", data={"csrf_token": csrf(leader, "/rounds")}).status_code == 403
    student = browser("student")
    assert "总务部东门夜查" not in student.get("/rounds").get_data(as_text=True)
    assert student.get(f"/rounds/{department}").status_code == 404


def test_round_forms_need_their_token(browser, places):
    inspector = browser("inspector")
    round_id = plan(inspector, csrf(inspector, "/rounds"))
    assert inspector.post("/rounds", data={"name": "无令牌", "level": "department"}).status_code == 400
    assert inspector.post(f"/rounds/{round_id}/start").status_code == 400
    assert inspector.post(f"/rounds/{round_id}/checks", data={"place": "C1-W1"}).status_code == 400
    assert "计划中" in inspector.get(f"/rounds/{round_id}").get_data(as_text=True)
