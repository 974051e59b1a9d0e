"""Places, rounds, coverage, briefings and notifications in a real browser, at desktop and phone width."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from browser_helpers import DESKTOP, PHONE, shoot
from places_helpers import SH, load_places

from engine import rounds, services
from engine.actors import actor_for
from engine.briefings import service as briefings
from engine.briefings.build import Scope
from engine.models import User
from engine.notify import routing
from engine.places import registry

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect
pytestmark = pytest.mark.browser

# code, name, kind, parent, unit (the live campus's units)
TREE = [("MAIN", "主校区", "campus", None, "GAD"), ("C1", "第一食堂", "canteen", "MAIN", "FOOD-C1"),
        ("C1-1F", "一层", "floor", "C1", None), ("C1-W1", "一号窗口", "window", "C1-1F", None),
        ("C1-W2", "二号窗口（清真）", "window", "C1-1F", None), ("C2", "第二食堂", "canteen", "MAIN", "FOOD"),
        ("D9", "学生公寓9号楼", "dormitory", "MAIN", "PROP"), ("D9-3F", "3层", "floor", "D9", None),
        ("D9-3F-WC", "东侧卫生间", "room", "D9-3F", None), ("EAST", "东门广场", "outdoor", "MAIN", "PROP"),
        ("E1", "第一锅炉房", "energy", "MAIN", "ENERGY")]
NOTIFICATIONS = """\
channels:
  food-wecom: {type: wecom, url: "http://127.0.0.1:9/wecom?key=food"}
routes:
  - {unit: FOOD, role: centre, channel: food-wecom}
"""


def _today():
    return datetime.now(SH).date()


@pytest.fixture(scope="module")
def site(live):
    """The live campus with places, a department round with a week of checks, a finding found in it, a
    briefing draft and notifications routed to the catering centre."""
    load_places(live.store)
    routing.use(live.store, routing.parse(NOTIFICATIONS, base=live.store.instance))
    with live.store.uow() as uow:
        parents = uow.store.directory.parents(uow.session)
        who = {u.name: actor_for(uow.session, u, parents) for u in uow.session.scalars(sa.select(User))}
        for code, name, kind, parent, unit in TREE:
            registry.create_place(uow, who["gad.admin"], registry.PlaceInput(code, name, kind, parent, unit))
        start = datetime.combine(_today() - timedelta(days=8), time(8), SH)
        row = rounds.plan_round(uow, who["wang.jun"], rounds.RoundInput(
            name="本周食堂与宿舍督查", level="department", planned_start=start, planned_end=start + timedelta(days=7),
            notes="重点：后厨卫生、夜间宿舍安全"), now=start)
        rounds.move_round(uow, who["wang.jun"], row.id, "start", now=start)
        for days in range(1, 7):
            for code, hour in (("C1-W1", 12), ("C2", 18), ("D9", 23 if days % 2 else 10)):
                moment = datetime.combine(_today() - timedelta(days=days), time(hour), SH)
                rounds.record_check(uow, who["wang.jun"], row.id, rounds.CheckInput(code, moment), now=moment)
        finding = services.report_finding(uow, who["wang.jun"], services.Report(
            title="二号窗口售卖区地面湿滑无警示牌", category="安全隐患", location="", unit="", place="C1-W2",
            round=row.id))
        services.advance(uow, finding.id, "assign", who["wang.jun"])
        briefings.draft(uow, who["wang.jun"], Scope(_today() - timedelta(days=10), _today()), title="本周巡查情况")
        uow.commit()
        return {"round": row.id, "finding": finding.id}


def _no_overflow(page) -> None:
    """Nothing wider than the window: the page never scrolls sideways (tables scroll inside their frame)."""
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"{page.url} is {width}px wider than the window"


def test_each_new_page_at_desktop_and_phone_width(open_page, site, live):
    coverage = f"/coverage?from={_today() - timedelta(days=13)}&to={_today()}"
    pages = [("gad.admin", "/places", "places", "点位"), ("food.zhou", "/places/C1", "place", "第一食堂"),
             ("wang.jun", "/rounds", "rounds", "巡查轮次"), ("wang.jun", f"/rounds/{site['round']}", "round",
                                                               "本周食堂与宿舍督查"),
             ("chen.ming", coverage, "coverage", "覆盖情况"), ("wang.jun", "/briefings", "briefings", "巡查简报"),
             ("wang.jun", "/briefings/1", "briefing", "本周巡查情况"),
             ("food.zhou", "/notifications", "notifications", "通知"),
             ("gad.admin", "/notifications", "outbox", "通知")]
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for who, path, name, heading in pages:
            page = open_page(who, viewport)
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            if name == "coverage":
                expect(page.locator("[data-heatmap] canvas")).to_have_count(1)
            if name == "briefing":
                expect(page.frame_locator("iframe.briefing-frame").get_by_text("巡查情况通报")).to_be_visible()
            _no_overflow(page)
            shoot(page, f"{name}-{size}")
            page.context.close()
    assert not live.console_errors, live.console_errors


def test_the_coverage_heat_map_renders_without_console_errors(open_page, site, live):
    page = open_page("chen.ming", PHONE)
    page.goto(f"/coverage?from={_today() - timedelta(days=13)}&to={_today()}")
    canvas = page.locator("[data-heatmap] canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box["width"] > 300 and box["height"] > 200
    expect(page.get_by_role("heading", name=re.compile("巡查死角"))).to_be_visible()
    expect(page.get_by_role("link", name="第一锅炉房").first).to_be_visible()  # never checked: a blind spot
    assert not live.console_errors, live.console_errors


def test_an_inspector_records_a_check_from_a_phone(open_page, site):
    page = open_page("li.na", PHONE)
    page.goto(f"/rounds/{site['round']}")
    page.get_by_label(re.compile("^点位编码")).fill("D9-3F-WC")
    page.get_by_label("未发现问题").check()
    page.get_by_role("button", name="记录检查").click()
    expect(page.get_by_text("已记录检查")).to_be_visible()
    expect(page.get_by_role("link", name="D9-3F-WC")).to_be_visible()
    page.get_by_label(re.compile("^点位编码")).fill("C1-W2")
    page.get_by_label("发现问题", exact=True).check()
    page.get_by_role("button", name="记录检查").click()
    expect(page.locator("#findings-error")).to_contain_text("请勾选此次检查发现的问题")
    page.get_by_label(re.compile("二号窗口售卖区地面湿滑")).check()
    page.get_by_role("button", name="记录检查").click()
    expect(page.get_by_text("已记录检查")).to_be_visible()
    shoot(page, "round-check-phone")
