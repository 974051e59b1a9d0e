"""点位 pages: the tree with search and filters, a place with its checks and findings in reach, admin edits."""
from __future__ import annotations

import pytest
from page_helpers import csrf
from places_helpers import build_places

from engine import services
from engine.models import Place


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def report_at(campus, place: str, title: str) -> int:
    with campus.store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location="", unit="", place=place))
        uow.commit()
        return finding.id


def test_the_tree_is_searched_and_filtered(browser, places):
    food = browser("food")
    page = food.get("/places").get_data(as_text=True)
    assert "一食堂" in page and "学生公寓9号楼" in page and "东门广场路灯" in page
    found = food.get("/places?q=公寓").get_data(as_text=True)
    assert "学生公寓9号楼" in found and "学生公寓3号楼" in found and "一食堂" not in found
    canteens = food.get("/places?kind=canteen").get_data(as_text=True)
    assert "一食堂" in canteens and "学生公寓9号楼" not in canteens
    dorms = food.get("/places?unit=PROP-DORM").get_data(as_text=True)
    assert "学生公寓3号楼" in dorms and "一号窗口" not in dorms


def test_a_place_shows_only_the_findings_within_reach(browser, places):
    report_at(places, "C1-W1", "一号窗口餐具未消毒")
    report_at(places, "D9-3F-WC", "九号楼卫生间漏水")
    food = browser("food").get("/places/MAIN").get_data(as_text=True)
    assert "一号窗口餐具未消毒" in food and "九号楼卫生间漏水" not in food
    dorm = browser("dorm").get("/places/D9").get_data(as_text=True)
    assert "九号楼卫生间漏水" in dorm and "一号窗口餐具未消毒" not in dorm
    assert "学生公寓9号楼" in dorm and "夜间" in dorm  # its name and its kind's service periods
    assert 'href="/api/v1/places/D9/qr-sheet"' in dorm
    sheet = browser("dorm").get("/api/v1/places/D9/qr-sheet")  # the link works with the page's session
    assert sheet.status_code == 200 and "东侧卫生间" in sheet.get_data(as_text=True)
    assert 'href="/report?place=D9"' in dorm and "在此上报问题" not in browser("leader").get("/places/D9").get_data(
        as_text=True)
    inspector = browser("inspector").get("/places/MAIN").get_data(as_text=True)
    assert "一号窗口餐具未消毒" in inspector and "九号楼卫生间漏水" in inspector


def test_an_unknown_place_is_404(browser, places):
    response = browser("food").get("/places/NOPE")
    assert response.status_code == 404 and "未找到点位 NOPE" in response.get_data(as_text=True)


def _place(campus, code):
    with campus.store.uow(write=False) as uow:
        row = uow.session.query(Place).filter_by(code=code).one_or_none()
        return None if row is None else (row.name_zh, row.active)


def test_administrators_create_edit_and_deactivate_places(browser, places):
    admin = browser("admin")
    token = csrf(admin, "/places")
    created = admin.post("/places", data={"csrf_token": token, "code": "C1-1F-W3", "name_zh": "三号窗口",
                                          "kind": "window", "parent": "C1-1F", "unit": ""})
    assert created.status_code == 303 and created.headers["Location"].endswith("/places/C1-1F-W3")
    assert _place(places, "C1-1F-W3") == ("三号窗口", True)
    bad = admin.post("/places", data={"csrf_token": token, "code": "坏 编码", "name_zh": "", "kind": "castle"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "只能用字母" in text and "必填" in text
    assert "未知的点位类型 &#39;castle&#39;" in text
    assert _place(places, "坏 编码") is None
    edited = admin.post("/places/C1-1F-W3", data={"csrf_token": token, "name_zh": "三号清真窗口", "kind": "window",
                                                  "parent": "C1-1F", "unit": "FOOD", "active": "1"})
    assert edited.status_code == 303 and _place(places, "C1-1F-W3") == ("三号清真窗口", True)
    loop = admin.post("/places/C1", data={"csrf_token": token, "name_zh": "一食堂", "kind": "canteen",
                                          "parent": "C1-1F", "unit": "FOOD"})
    assert loop.status_code == 422 and "不能成为自己的上级" in loop.get_data(as_text=True)
    gone = admin.post("/places/C1-1F-W3/deactivate", data={"csrf_token": token})
    assert gone.status_code == 303 and _place(places, "C1-1F-W3") == ("三号清真窗口", False)


def test_only_administrators_change_places_and_every_form_needs_its_token(browser, places):
    for who in ("inspector", "food", "leader"):
        client = browser(who)
        token = csrf(client, "/places")
        page = client.get("/places/C1").get_data(as_text=True)
        assert "修改点位" not in page and "新增点位" not in client.get("/places").get_data(as_text=True)
        refused = client.post("/places", data={"csrf_token": token, "code": "X1", "name_zh": "某处", "kind": "point"})
        assert refused.status_code == 403, who
        assert client.post("/places/C1/deactivate", data={"csrf_token": token}).status_code == 403
    admin = browser("admin")
    assert admin.post("/places", data={"code": "X1", "name_zh": "某处", "kind": "point"}).status_code == 400
    assert admin.post("/places/C1/deactivate").status_code == 400
    assert _place(places, "X1") is None and _place(places, "C1") == ("一食堂", True)
