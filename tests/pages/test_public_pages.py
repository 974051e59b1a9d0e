"""The QR pages: a public report through the HTML form, its receipt, the rating, and the abuse defences."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from page_helpers import TOKEN
from PIL import Image
from places_helpers import build_places

from engine import audit, public, scorecard, services
from engine.attachments import path_for, storage_dir
from engine.models import Attachment, Finding, PublicReport
from web import create_app

RECEIPT = re.compile(r"/r/receipt/([A-Z0-9]+)")


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def _csrf(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return TOKEN.search(page.get_data(as_text=True)).group(1)


def gps_photo() -> bytes:
    """A phone photo that says where it was taken."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 5.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def send(client, code="D9-3F-WC", *, csrf=True, photos=(), **fields):
    data = {"category": "设施设备", "description": "水龙头一直漏水", "contact": "13800000000", **fields}
    if csrf:
        data["csrf_token"] = _csrf(client, f"/r/{code}")
    if photos:
        data["photos"] = [(io.BytesIO(body), name, kind) for body, name, kind in photos]
    return client.post(f"/r/{code}", data=data, content_type="multipart/form-data")


def verify(store):
    with store.sessions() as session:
        return audit.verify(session)


def findings(campus) -> list[Finding]:
    with campus.store.uow(write=False) as uow:
        rows = list(uow.session.scalars(sa.select(Finding)))
        uow.session.expunge_all()  # read after the unit of work closes
        return rows


def fire(campus, finding_id, event, who, payload=None):
    with campus.store.uow() as uow:
        services.advance(uow, finding_id, event, campus.actor(who), payload or {})
        uow.commit()


def test_the_form_shows_the_place_and_the_configured_categories_without_sign_in(app, places):
    page = app.test_client().get("/r/D9-3F-WC")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "学生公寓9号楼3层东侧卫生间" in text
    assert all(c in text for c in ("环境卫生", "食品安全", "秩序管理"))  # places.yaml public.categories
    assert text.count('capture="environment"') == 3 and 'accept="image/*"' in text
    assert 'name="csrf_token"' in text and 'name="website"' in text  # the honeypot, hidden by the stylesheet
    assert "http://" not in text.replace("http://localhost", "") and "https://" not in text  # nothing external
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    missing = app.test_client().get("/r/NOPE")
    assert missing.status_code == 404 and "未找到该地点" in missing.get_data(as_text=True)


def test_a_public_report_end_to_end_through_the_form_and_its_receipt(app, places):
    client = app.test_client()
    sent = send(client, photos=[(gps_photo(), "IMG_0001.jpg", "image/jpeg")])
    assert sent.status_code == 303
    code = RECEIPT.search(sent.headers["Location"]).group(1)
    assert len(code) >= 10
    [finding] = findings(places)
    assert (finding.source, finding.state, finding.found_by, finding.category) == ("public", "reported", "public",
                                                                                   "设施设备")
    with places.store.uow(write=False) as uow:
        unit = uow.session.scalar(sa.text("select code from units where id = :u"), {"u": finding.unit_id})
        place = uow.session.scalar(sa.text("select code from places where id = :p"), {"p": finding.place_id})
        row = uow.session.scalar(sa.select(PublicReport))
        photo = uow.session.scalar(sa.select(Attachment))
        stored = path_for(storage_dir(uow), photo.sha256)
        uow.session.expunge_all()
    assert (unit, place, row.receipt, row.contact) == ("PROP-DORM", "D9-3F-WC", code, "13800000000")
    with Image.open(stored) as image:  # re-encoded: no EXIF, so no GPS position
        assert image.format == "JPEG" and not image.getexif()
    audit_first = finding.audit_seq == 1  # the report went through report_finding: the chain's first row
    assert audit_first

    page = client.get(f"/r/receipt/{code}").get_data(as_text=True)
    assert "受理中" in page and code in page and "水龙头一直漏水" in page
    for internal in ("public.qr", "物业服务中心", "inspector", "dorm", "已上报"):  # no names, actors, states
        assert internal not in page
    assert 'name="rating"' not in page  # not before closure

    fire(places, finding.id, "assign", "inspector")
    assert "整改中" in client.get(f"/r/receipt/{code}").get_data(as_text=True)
    fire(places, finding.id, "respond", "dorm", {"plan": "更换阀芯"})
    fire(places, finding.id, "rectify", "dorm", {"note": "已更换"})
    fire(places, finding.id, "verify", "inspector", {"verdict": "pass"})
    page = client.get(f"/r/receipt/{code}").get_data(as_text=True)
    assert "已整改" in page and 'name="rating"' in page and "更换阀芯" not in page

    token = _csrf(client, f"/r/receipt/{code}")
    rated = client.post(f"/r/receipt/{code}", data={"rating": "4", "csrf_token": token})
    assert rated.status_code == 303
    page = client.get(rated.headers["Location"]).get_data(as_text=True)
    assert "★★★★☆" in page and 'name="rating"' not in page
    again = client.post(f"/r/receipt/{code}", data={"rating": "1", "csrf_token": token})
    assert again.status_code == 422 and "已经评价过" in again.get_data(as_text=True)
    with places.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(PublicReport.rating)) == 4
        day = date.today()
        card = scorecard.unit_scorecard(uow, places.actor("admin"), "PROP-DORM", day - timedelta(days=1),
                                        day + timedelta(days=1))
    assert (card.tally.ratings, card.tally.rating_sum) == (1, 4)
    assert card.tally.satisfaction_points == 2.5  # weight 5 (places.yaml) × (4 − 3) / 2
    without = scorecard.composite(card.tally.__class__(**{**card.tally.__dict__, "satisfaction_points": 0.0}))
    assert card.score == round(without + 2.5, 2)
    assert card.as_dict()["satisfaction"] == 4.0
    # The rating moves a score, so it is in the audit: an edit of it behind the application is caught.
    assert verify(places.store).ok
    with places.store.engine.begin() as conn:  # as the database's owner could
        conn.exec_driver_sql("UPDATE public_reports SET rating = 5")
    found = verify(places.store)
    assert not found.ok and found.chain == "public_reports" and "rating" in found.problem


def test_a_dismissed_report_says_so_with_the_reason(app, places):
    client = app.test_client()
    code = RECEIPT.search(send(client).headers["Location"]).group(1)
    [finding] = findings(places)
    fire(places, finding.id, "dismiss", "inspector", {"reason": "该问题已于昨日修复"})
    page = client.get(f"/r/receipt/{code}").get_data(as_text=True)
    assert "不予受理" in page and "该问题已于昨日修复" in page and 'name="rating"' not in page
    assert client.get("/r/receipt/AAAAAAAAAAAA").status_code == 404
    typed = client.get("/r/receipt", query_string={"code": f" {code[:4].lower()}-{code[4:]} "})
    assert typed.status_code == 303 and typed.headers["Location"].endswith(f"/r/receipt/{code}")
    assert "回执编号" in client.get("/r/receipt").get_data(as_text=True)


def test_the_honeypot_drops_the_report_without_telling(app, places):
    answer = send(app.test_client(), website="http://spam.example")
    assert answer.status_code == 200 and "感谢您的反映" in answer.get_data(as_text=True)
    assert "回执编号" not in answer.get_data(as_text=True) and findings(places) == []


def test_bad_input_is_refused_in_chinese_and_stores_nothing(app, places, monkeypatch):
    client = app.test_client()
    wrong = send(client, category="不存在的类别", description="")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "请从列表中选择类别" in text and "必填" in text
    pdf = send(client, photos=[(b"%PDF-1.4", "a.pdf", "application/pdf")])
    assert pdf.status_code == 422 and "只接受" in pdf.get_data(as_text=True)
    four = send(client, photos=[(gps_photo(), f"{i}.jpg", "image/jpeg") for i in range(4)])
    assert four.status_code == 422 and "最多 3 张照片" in four.get_data(as_text=True)
    fake = send(client, photos=[(b"\x89PNG\r\n\x1a\n<html>", "x.png", "image/png")])
    assert fake.status_code == 422
    monkeypatch.setattr(public, "PHOTO_MAX_BYTES", 2000)  # a small limit: the test client keeps big bodies open
    huge = send(client, photos=[(b"\xff\xd8\xff" + bytes(3000), "big.jpg", "image/jpeg")])
    assert huge.status_code == 422 and "字节的上限" in huge.get_data(as_text=True)
    assert send(client, csrf=False).status_code == 400  # no CSRF token: the form was not loaded here
    assert findings(places) == []
    with places.store.uow(write=False) as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(PublicReport)) == 0


def test_rate_limits_answer_429_in_chinese_per_place_and_per_address(campus):
    build_places(campus)
    app = create_app({"STORE": campus.store, "TESTING": True, "SECRET_KEY": "t",
                      "PUBLIC_LIMIT_PLACE": "2 per hour", "PUBLIC_LIMIT_CLIENT": "3 per hour"})
    client = app.test_client()
    assert [send(client, "D9-3F-WC").status_code for _ in range(2)] == [303, 303]
    limited = send(client, "D9-3F-WC")
    assert limited.status_code == 429 and "提交过于频繁" in limited.get_data(as_text=True)
    assert "Retry-After" in limited.headers
    assert send(client, "C1").status_code == 303  # another place, the same address: its 3rd report
    other = send(client, "EAST")  # the 4th from this address
    assert other.status_code == 429 and "请稍后再试" in other.get_data(as_text=True)
    neighbour = app.test_client()
    data = {"category": "环境卫生", "description": "垃圾满溢", "csrf_token": _csrf(neighbour, "/r/EAST")}
    elsewhere = neighbour.post("/r/EAST", data=data, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert elsewhere.status_code == 303  # another address is counted apart
    assert len(findings(campus)) == 4


def test_the_reporters_contact_is_for_inspectors_and_administrators_never_the_centre(app, places, browser):
    send(app.test_client(), contact="lin@stu.example.edu.cn")
    [finding] = findings(places)
    fire(places, finding.id, "assign", "inspector")
    for who, sees in (("inspector", True), ("admin", True), ("dorm", False), ("prop", False), ("leader", False)):
        api = app.test_client().get(f"/api/v1/findings/{finding.id}",
                                    headers={"Authorization": f"Bearer {places.tokens[who]}"})
        assert api.status_code == 200
        assert (api.get_json().get("reporter_contact") == "lin@stu.example.edu.cn") is sees, who
        page = browser(who).get(f"/findings/{finding.id}").get_data(as_text=True)
        assert ("lin@stu.example.edu.cn" in page) is sees, who
    listed = app.test_client().get("/api/v1/findings", headers={"Authorization": f"Bearer {places.tokens['dorm']}"})
    assert "lin@stu.example.edu.cn" not in listed.get_data(as_text=True)


def test_the_public_account_is_made_once_and_audited(places):
    with places.store.uow() as uow:
        first, second = public.public_actor(uow), public.public_actor(uow)
        uow.commit()
    assert first == second and first.roles == ("public",)
    with places.store.uow(write=False) as uow:
        rows = uow.session.execute(sa.text(
            "select count(*) from audit_records where chain = 'users' and subject like 'users:%'")).scalar()
    assert rows >= 1


def test_a_signed_in_person_opens_the_print_sheet_from_the_pages(app, places, browser):
    sheet = browser("inspector").get("/api/v1/places/D9/qr-sheet")
    assert sheet.status_code == 200 and "扫码反映问题" in sheet.get_data(as_text=True)
    assert app.test_client().get("/api/v1/places/D9/qr-sheet").status_code == 401  # no session, no token
