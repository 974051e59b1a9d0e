"""A phone scans a place's code: the public form at 375 px, the receipt, the rating; and the print sheet."""
from __future__ import annotations

import re

import pytest
from browser_helpers import DESKTOP, PHONE, png, shoot
from places_helpers import PLACES_YAML

from engine import services
from engine.actors import actor_for
from engine.models import Finding, User
from engine.places import registry
from engine.places.config import load_config

pytestmark = pytest.mark.browser
PLACES = [("MAIN", "主校区", "campus", None, "GAD"), ("D9", "学生公寓9号楼", "dormitory", "MAIN", "PROP"),
          ("D9-3F", "3层", "floor", "D9", None), ("D9-3F-WC", "东侧卫生间", "room", "D9-3F", None),
          ("C1", "第一食堂", "canteen", "MAIN", "FOOD-C1")]


@pytest.fixture(scope="module")
def campus_places(live):
    with live.store.uow() as uow:
        load_config(uow, PLACES_YAML.read_text(encoding="utf-8"), file=str(PLACES_YAML), by="setup")
        uow.session.flush()
        admin = actor_for(uow.session, uow.session.query(User).filter_by(name="gad.admin").one())
        for code, name, kind, parent, unit in PLACES:
            registry.create_place(uow, admin, registry.PlaceInput(code, name, kind, parent, unit))
        uow.commit()
    return live


def _close(live, finding_id):
    with live.store.uow() as uow:
        users = {u.name: actor_for(uow.session, u) for u in uow.session.query(User)}
        for event, who, payload in (("assign", "wang.jun", {}), ("respond", "prop.zhang", {"plan": "更换阀芯"}),
                                    ("rectify", "prop.zhang", {"note": "已更换"}),
                                    ("verify", "wang.jun", {"verdict": "pass"})):
            services.advance(uow, finding_id, event, users[who], payload)
        uow.commit()


def test_a_phone_reports_follows_and_rates_at_375px(open_page, campus_places, tmp_path):
    live = campus_places
    page = open_page(None, PHONE)
    page.goto("/r/D9-3F-WC")
    assert page.get_by_text("学生公寓9号楼3层东侧卫生间").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    trap = page.locator("#website").bounding_box()
    assert trap["x"] + trap["width"] <= 0  # the honeypot lies off the screen: it is not for people
    shoot(page, "public-report-375")
    page.get_by_text("设施设备", exact=True).click()
    page.get_by_label("问题描述").fill("3层东侧卫生间水龙头一直漏水，地面湿滑")
    photo = tmp_path / "leak.png"
    photo.write_bytes(png())
    page.locator('input[name="photos"]').first.set_input_files(str(photo))
    assert page.get_by_text("已选照片").is_visible()
    shoot(page, "public-report-filled-375")
    page.get_by_label("联系方式（选填）").fill("13800000000")
    page.get_by_role("button", name="提交反映").click()
    page.wait_for_url(re.compile(r"/r/receipt/"))
    assert page.get_by_text("提交成功").is_visible() and page.get_by_text("受理中").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "public-receipt-375")

    with live.store.uow(write=False) as uow:
        finding_id = uow.session.query(Finding.id).filter_by(source="public").one()[0]
    _close(live, finding_id)
    page.reload()
    assert page.get_by_text("已整改").first.is_visible()
    page.locator('label[for="r4"]').click()
    shoot(page, "public-rate-375")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(re.compile(r"rated=1"))
    assert page.get_by_text("感谢您的评价").is_visible() and page.get_by_text("★★★★☆").is_visible()
    shoot(page, "public-rated-375")
    assert not live.console_errors


def test_the_print_sheet_renders_its_codes(open_page, campus_places):
    page = open_page("wang.jun", DESKTOP)
    page.goto("/api/v1/places/MAIN/qr-sheet")
    assert page.locator(".label").count() == len(PLACES)
    assert page.locator(".label svg").first.bounding_box()["width"] > 100
    shoot(page, "qr-sheet")
