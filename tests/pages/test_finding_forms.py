"""The detail page's forms: generated from the YAML fields, errors beside fields in Chinese, nothing applied twice."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa
from page_helpers import csrf
from PIL import Image

from engine import services
from engine.models import Attachment, AuditEntry, Finding


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 60, 40)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()  # a real image: uploads are decoded and re-encoded


def _report(campus, unit="FOOD", title="一食堂地面湿滑") -> int:
    with campus.store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location="一食堂二楼", unit=unit))
        uow.commit()
        return finding.id


def _state(campus, finding_id):
    with campus.store.uow(write=False) as uow:
        f = uow.session.get(Finding, finding_id)
        rows = uow.session.scalar(sa.select(sa.func.count()).where(AuditEntry.finding_id == finding_id))
        return f.state, f.version, rows


def _form_token(page: str, event: str) -> str:
    return re.search(rf'name="token" value="([^"]+-{event})"', page).group(1)


def test_detail_offers_only_the_events_the_person_may_fire_with_fields_from_the_yaml(browser, campus):
    fid = _report(campus)
    page = browser("inspector").get(f"/findings/{fid}").get_data(as_text=True)
    assert "交办" in page and "不予受理" in page and "交办意见" in page  # assign, dismiss, the note's label
    assert "回复整改计划" not in page  # respond is the centre's
    food = browser("food").get(f"/findings/{fid}").get_data(as_text=True)
    assert "当前没有您可以执行的操作" in food


def test_a_whole_loop_through_the_forms_with_a_photo_and_chinese_errors(browser, campus):
    fid = _report(campus)
    inspector, food = browser("inspector"), browser("food")
    page = inspector.get(f"/findings/{fid}").get_data(as_text=True)
    done = inspector.post(f"/findings/{fid}/events/assign", data={
        "csrf_token": csrf(inspector, "/"), "version": "1", "token": _form_token(page, "assign"), "note": "请尽快处理"})
    assert done.status_code == 303
    page = food.get(f"/findings/{fid}").get_data(as_text=True)
    missing = food.post(f"/findings/{fid}/events/rectify", data={
        "csrf_token": csrf(food, "/"), "version": "2", "token": _form_token(page, "rectify")})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "必填" in text and 'id="rectify-note-error"' in text
    assert _state(campus, fid)[:2] == ("assigned", 2)
    done = food.post(f"/findings/{fid}/events/rectify", content_type="multipart/form-data", data={
        "csrf_token": csrf(food, "/"), "version": "2", "token": _form_token(page, "rectify"),
        "note": "已清理并放置防滑垫",
        "photos": (io.BytesIO(PNG), "整改后.png", "image/png")})
    assert done.status_code == 303
    detail = food.get(f"/findings/{fid}").get_data(as_text=True)
    assert "待复查" in detail and "整改后.png" in detail and "已清理并放置防滑垫" in detail
    with campus.store.uow(write=False) as uow:
        photo = uow.session.scalars(sa.select(Attachment.id).where(Attachment.finding_id == fid)).one()
        payload = uow.session.scalars(sa.select(AuditEntry.payload).where(AuditEntry.event == "rectify")).one()
    assert payload["photos"] == [photo]
    with food.get(f"/findings/{fid}/files/{photo}") as picture:
        assert picture.status_code == 200 and Image.open(io.BytesIO(picture.data)).size == (16, 12)
    page = inspector.get(f"/findings/{fid}").get_data(as_text=True)
    assert "复查通过 / 复查未通过" in page
    failed = inspector.post(f"/findings/{fid}/events/verify", data={
        "csrf_token": csrf(inspector, "/"), "version": "3", "token": _form_token(page, "verify"), "verdict": "fail",
        "note": "仍有积水"})
    assert failed.status_code == 303 and _state(campus, fid)[0] == "rectifying"


def test_a_stale_form_is_told_the_finding_changed_and_applies_nothing(browser, campus):
    fid = _report(campus)
    first, second = browser("inspector"), browser("admin")
    page_one = first.get(f"/findings/{fid}").get_data(as_text=True)
    page_two = second.get(f"/findings/{fid}").get_data(as_text=True)
    assert first.post(f"/findings/{fid}/events/assign", data={
        "csrf_token": csrf(first, "/"), "version": "1", "token": _form_token(page_one, "assign")}).status_code == 303
    late = second.post(f"/findings/{fid}/events/dismiss", data={
        "csrf_token": csrf(second, "/"), "version": "1", "token": _form_token(page_two, "dismiss"), "reason": "重复"})
    text = late.get_data(as_text=True)
    assert late.status_code == 409 and "此问题已被他人更新" in text and "已交办" in text
    assert _state(campus, fid) == ("assigned", 2, 2)


def test_the_same_form_sent_twice_acts_once(browser, campus):
    fid = _report(campus)
    client = browser("inspector")
    page = client.get(f"/findings/{fid}").get_data(as_text=True)
    form = {"csrf_token": csrf(client, "/"), "version": "1", "token": _form_token(page, "assign"), "note": "一次"}
    assert client.post(f"/findings/{fid}/events/assign", data=form).status_code == 303
    again = client.post(f"/findings/{fid}/events/assign", data=form, follow_redirects=True)
    assert again.status_code == 200 and "没有重复执行" in again.get_data(as_text=True)
    assert _state(campus, fid) == ("assigned", 2, 2)


def test_report_page_reports_with_a_photo_and_names_missing_fields_in_chinese(browser, campus):
    client = browser("inspector")
    page = client.get("/report").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    bad = client.post("/report", data={"csrf_token": csrf(client, "/report"), "token": token, "unit": "FOOD"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="title-error"' in text and "必填" in text
    good = client.post("/report", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, "/report"), "token": token, "title": "二食堂餐具消毒不到位", "unit": "FOOD",
        "category": "食品安全", "location": "二食堂 一楼", "severity": "high",
        "photos": (io.BytesIO(PNG), "现场.png", "image/png")})
    assert good.status_code == 303
    fid = int(good.headers["Location"].rsplit("/", 1)[1])
    assert "现场.png" in client.get(f"/findings/{fid}").get_data(as_text=True)
    twice = client.post("/report", data={"csrf_token": csrf(client, "/report"), "token": token, "title": "再来",
                                         "unit": "FOOD", "category": "c", "location": "l"})
    assert twice.status_code == 303 and twice.headers["Location"].endswith(f"/findings/{fid}")


def test_api_problems_speak_chinese_when_asked(app, campus):
    fid = _report(campus)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {campus.tokens['inspector']}"}
    english = client.post(f"/api/v1/findings/{fid}/transitions", json={"event": "dismiss", "payload": {}},
                          headers=headers)
    assert english.get_json()["title"] == "Missing fields" and english.get_json()["errors"] == {"reason": "required"}
    chinese = client.post(f"/api/v1/findings/{fid}/transitions", json={"event": "dismiss", "payload": {}},
                          headers={**headers, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    body = chinese.get_json()
    assert chinese.status_code == 422 and body["title"] == "缺少必填项" and body["errors"] == {"reason": "必填"}
    assert chinese.headers["Content-Language"] == "zh-CN"


def test_report_page_suggests_the_configured_categories(browser, campus):
    from places_helpers import PLACES_YAML

    from engine.places.config import load_config

    page = browser("inspector").get("/report").get_data(as_text=True)
    assert '<option value="环境卫生">' in page  # the shipped list before any places file
    text = PLACES_YAML.read_text(encoding="utf-8").replace("categories: [环境卫生,", "categories: [电梯故障, 环境卫生,")
    with campus.store.uow() as uow:
        load_config(uow, text, file="places.yaml", by="setup")
        uow.commit()
    page = browser("inspector").get("/report").get_data(as_text=True)
    assert '<option value="电梯故障">' in page and '<option value="环境卫生">' in page
