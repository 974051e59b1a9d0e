"""巡查简报 pages: drafts for those who draft, the HTML view, Word, publishing once, refusals and tokens."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from page_helpers import csrf
from places_helpers import load_places

from engine import rounds, services
from engine.briefings.formats import publishing_renderers
from engine.models import Briefing
from web.pages import briefings as briefing_pages


@pytest.fixture(autouse=True)
def word_only(monkeypatch):
    # LibreOffice takes seconds per document; publishing with PDF is tested with the engine.
    monkeypatch.setattr(briefing_pages, "publishing_renderers", lambda: publishing_renderers(with_pdf=False))


def draft(client, token, **fields) -> int:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the findings below are reported now
    period = {"from": (today - timedelta(days=30)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    response = client.post("/briefings", data={"csrf_token": token, **period, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/briefings/(\d+)$", response.headers["Location"]).group(1))


def test_an_inspector_drafts_reads_and_publishes_a_briefing(browser, campus):
    with campus.store.uow() as uow:
        services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="一食堂后厨排水沟堵塞", category="卫生", location="一食堂后厨", unit="FOOD"))
        uow.commit()
    inspector = browser("inspector")
    token = csrf(inspector, "/briefings")
    bid = draft(inspector, token, title="三月巡查情况")
    page = inspector.get(f"/briefings/{bid}").get_data(as_text=True)
    assert "三月巡查情况" in page and "草稿" in page and f'src="/briefings/{bid}/view"' in page
    view = inspector.get(f"/briefings/{bid}/view")
    assert "frame-ancestors 'self'" in view.headers["Content-Security-Policy"]
    assert "巡查情况通报" in view.get_data(as_text=True) and "一食堂后厨排水沟堵塞" in view.get_data(as_text=True)
    word = inspector.get(f"/briefings/{bid}.docx")
    assert word.status_code == 200 and word.data[:2] == b"PK"
    published = inspector.post(f"/briefings/{bid}/publish", data={"csrf_token": token})
    assert published.status_code == 303
    page = inspector.get(f"/briefings/{bid}").get_data(as_text=True)
    assert re.search(r"\d{4}年第1期", page) and "已发布" in page and "发布</button>" not in page
    again = inspector.post(f"/briefings/{bid}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "已经发布" in again.get_data(as_text=True)
    with campus.store.uow(write=False) as uow:
        assert uow.session.query(Briefing).filter_by(status="published").count() == 1
    listing = browser("food").get("/briefings").get_data(as_text=True)
    assert re.search(r"\d{4}年第1期", listing)
    correction = inspector.post("/briefings", data={"csrf_token": token, "corrects": str(bid)})
    assert correction.status_code == 303
    fixed = inspector.get(correction.headers["Location"]).get_data(as_text=True)
    assert "草稿" in fixed and "原期" in fixed


def test_drafts_are_for_drafters_and_the_public_reads_none(browser, campus):
    inspector = browser("inspector")
    bid = draft(inspector, csrf(inspector, "/briefings"), title="未发布的草稿")
    food = browser("food")
    assert food.get(f"/briefings/{bid}").status_code == 404
    assert food.get(f"/briefings/{bid}/view").status_code == 404
    assert food.get(f"/briefings/{bid}.docx").status_code == 404
    assert "未发布的草稿" not in food.get("/briefings").get_data(as_text=True)
    token = csrf(food, "/briefings")
    assert food.post("/briefings", data={"csrf_token": token, "from": "2026-03-01", "to": "2026-03-31"}) \
        .status_code == 403
    assert food.post(f"/briefings/{bid}/publish", data={"csrf_token": token}).status_code == 403
    assert browser("student").get("/briefings").status_code == 403
    assert browser("leader").get(f"/briefings/{bid}").status_code == 404


def test_briefing_forms_name_bad_fields_and_need_their_token(browser, campus):
    admin = browser("admin")
    token = csrf(admin, "/briefings")
    missing = admin.post("/briefings", data={"csrf_token": token, "from": "", "to": "2026-03-31"})
    assert missing.status_code == 422 and 'id="from-error"' in missing.get_data(as_text=True)
    backwards = admin.post("/briefings", data={"csrf_token": token, "from": "2026-03-31", "to": "2026-03-01"})
    assert backwards.status_code == 422 and "结束日期早于开始日期" in backwards.get_data(as_text=True)
    unknown = admin.post("/briefings", data={"csrf_token": token, "from": "2026-03-01", "to": "2026-03-31",
                                             "unit": "NOPE"})
    assert unknown.status_code == 422 and "没有代码为 &#39;NOPE&#39; 的单位" in unknown.get_data(as_text=True)
    load_places(campus.store)
    with campus.store.uow() as uow:  # once rounds exist, a briefing names them by id
        rounds.plan_round(uow, campus.actor("inspector"), rounds.RoundInput(name="三月督查", level="department"))
        uow.commit()
    named = admin.post("/briefings", data={"csrf_token": token, "from": "2026-03-01", "to": "2026-03-31",
                                           "rounds": "三月督查"})
    assert named.status_code == 422 and "请填轮次编号" in named.get_data(as_text=True)
    assert 'id="rounds-error"' in named.get_data(as_text=True)
    assert admin.post("/briefings", data={"from": "2026-03-01", "to": "2026-03-31"}).status_code == 400
    bid = draft(admin, token)
    assert admin.post(f"/briefings/{bid}/publish").status_code == 400
    with campus.store.uow(write=False) as uow:
        assert uow.session.query(Briefing).count() == 1
        assert uow.session.get(Briefing, bid).status == "draft"
