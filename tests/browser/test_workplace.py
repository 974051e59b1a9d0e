"""The web workplace in a real browser: the whole loop across roles, phone and desktop, on a live server."""
from __future__ import annotations

import re

import pytest
from browser_helpers import DESKTOP, PHONE, png, shoot, sign_in

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect
pytestmark = pytest.mark.browser


def _finding_id(page) -> int:
    return int(re.search(r"/findings/(\d+)$", page.url).group(1))


def _fire(page, button: str, fields: dict | None = None, files: dict | None = None, choice: str | None = None):
    """Open an event's form on the detail page, fill it, submit it."""
    details = page.locator("details.action", has=page.locator("summary", has_text=button))
    details.locator("summary").click()
    for label, value in (fields or {}).items():
        details.get_by_label(re.compile(f"^{label}")).fill(value)
    for label, path in (files or {}).items():
        details.get_by_label(re.compile(f"^{label}")).set_input_files(path)
    if choice:
        details.get_by_label(choice, exact=True).check()
    details.get_by_role("button", name="提交").click()
    page.wait_for_load_state()


def test_sign_in_and_out(open_page):
    page = open_page(None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    sign_in(page, "wang.jun")
    expect(page.get_by_role("heading", name=re.compile("工作台"))).to_be_visible()
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已退出登录")).to_be_visible()
    page.goto("/findings")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_loop_from_a_phone_report_to_the_auditors_timeline(open_page, tmp_path, live):
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png())
    fixed = tmp_path / "整改照片.png"
    fixed.write_bytes(png(rgb=(40, 160, 80)))

    phone = open_page("wang.jun", PHONE)  # the inspector on a phone, at the canteen
    phone.goto("/report")
    shoot(phone, "report-phone")
    phone.get_by_label(re.compile("^问题标题")).fill("一食堂二楼地面湿滑无警示")
    phone.get_by_label("地点").fill("一食堂 二楼 3号窗口")
    phone.get_by_label("责任单位").select_option(label="饮食服务中心")
    phone.get_by_label("类别").fill("安全隐患")
    phone.get_by_label("现场照片").set_input_files(str(photo))
    phone.get_by_role("button", name="上报").click()
    expect(phone.get_by_text(re.compile("问题已上报"))).to_be_visible()
    fid = _finding_id(phone)
    expect(phone.locator(".thumbs img")).to_have_count(1)
    _fire(phone, "交办", {"交办意见": "请于今日处理"})
    expect(phone.locator("#current-state")).to_have_text("已交办")

    centre = open_page("food.zhou", DESKTOP)
    centre.goto(f"/findings/{fid}")
    _fire(centre, "回复整改计划", {"整改措施": "立即拖干并放置警示牌"})
    expect(centre.locator("#current-state")).to_have_text("整改中")
    _fire(centre, "提交整改", {"整改情况": "已拖干，放置防滑垫和警示牌"}, {"整改照片": str(fixed)})
    expect(centre.locator("#current-state")).to_have_text("待复查")
    expect(centre.locator(".thumbs img")).to_have_count(2)

    phone.goto(f"/findings/{fid}")
    _fire(phone, "复查通过 / 复查未通过", {"复查意见": "仍有积水"}, choice="不通过")
    expect(phone.locator("#current-state")).to_have_text("整改中")
    centre.goto(f"/findings/{fid}")
    _fire(centre, "提交整改", {"整改情况": "更换了排水地漏"})
    phone.goto(f"/findings/{fid}")
    _fire(phone, "复查通过 / 复查未通过", choice="通过")
    expect(phone.locator("#current-state")).to_have_text("已整改销号")
    shoot(phone, "detail-phone")

    auditor = open_page("sun.li", DESKTOP)
    auditor.goto("/audit")
    auditor.get_by_label("问题编号").first.fill(str(fid))
    auditor.get_by_role("button", name="查询").click()
    rows = auditor.locator("table.list tbody tr")
    expect(rows).to_have_count(7)  # report, assign, respond, rectify, verify (fail), rectify, verify (pass)
    expect(rows.filter(has_text="复查未通过")).to_have_count(1)
    auditor.get_by_role("button", name="校验该问题").click()
    expect(auditor.locator("#verify-ok")).to_contain_text("校验通过")
    shoot(auditor, "audit-desktop")
    auditor.get_by_role("link", name=f"#{fid}").first.click()
    timeline = auditor.locator("ol.timeline > li")
    expect(timeline).to_have_count(7)
    expect(auditor.locator("ol.timeline")).to_contain_text("复查结论")
    expect(auditor.locator("ol.timeline")).to_contain_text("不通过")
    shoot(auditor, "detail-desktop")


def test_an_administrator_sees_a_workflow_error_at_its_line_then_saves_a_new_version(open_page):
    page = open_page("gad.admin", DESKTOP)
    page.goto("/workflows/finding/edit")
    editor = page.get_by_label("YAML 文本")
    text = editor.input_value()
    broken = text.replace("to: verifying", "to: verifyingg", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "verifyingg" in x)) + 1
    editor.fill(broken)
    page.get_by_role("button", name="检查").click()
    expect(page.locator("#lint-result")).to_contain_text(f"第 {line} 行")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator("#lint-result")).to_contain_text("未保存")
    expect(page.locator(f"#line-{line}")).to_contain_text("verifyingg")
    shoot(page, "workflow-error-desktop")
    page.get_by_label("YAML 文本").fill(text.replace("整改中", "整改进行中"))
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.get_by_text(re.compile("已保存为新版本：finding 第 2 版"))).to_be_visible()
    expect(page.locator("#versions")).to_contain_text("第 2 版")
    expect(page.locator(".diagram svg")).to_have_count(1)
    shoot(page, "workflow-desktop")


def test_two_browsers_on_one_finding_the_second_is_told_it_changed(open_page):
    first = open_page("wang.jun", DESKTOP)
    first.goto("/report")
    first.get_by_label("问题标题").fill("东门广场路灯不亮")
    first.get_by_label("地点").fill("东门广场")
    first.get_by_label("责任单位").select_option(label="能源服务中心")
    first.get_by_label("类别").fill("设施设备")
    first.get_by_role("button", name="上报").click()
    fid = _finding_id(first)
    second = open_page("li.na", DESKTOP)
    second.goto(f"/findings/{fid}")
    _fire(first, "交办")
    expect(first.locator("#current-state")).to_have_text("已交办")
    _fire(second, "不予受理", {"理由": "非后勤范围"})
    expect(second.locator("#conflict")).to_contain_text("此问题已被他人更新")
    expect(second.locator("#current-state")).to_have_text("已交办")
    shoot(second, "conflict-desktop")


def test_scorecards_draw_their_chart_and_pages_render_at_both_widths(open_page, live):
    live.console_errors.clear()  # earlier tests answered 409 and 422 on purpose; these pages must log nothing
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_page("gad.admin", viewport)
        for path, name in (("/", "home"), ("/findings", "list"), ("/scorecards?preset=year", "scorecards"),
                           ("/audit", "audit"), ("/workflows/finding", "workflow"), ("/admin/users", "users"),
                           ("/admin/units", "units")):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            if name == "scorecards":
                expect(page.locator("[data-chart] canvas")).to_have_count(1)
            shoot(page, f"{name}-{suffix}")
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '巡查问题整改')")
        login = open_page(None, viewport)
        login.goto("/login")
        shoot(login, f"login-{suffix}")
    assert live.console_errors == []
