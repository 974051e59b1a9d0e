"""Printable QR codes: each leads to its place's public page, and print sheets carry 12 codes to an A4 page."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from places_helpers import TREE, build_places

from web import create_app

zbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar needs libzbar0 (apt-get install libzbar0; .ci/run does)")


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [symbol.data.decode("utf-8") for symbol in zbar.decode(image)]


def test_a_qr_code_decodes_back_to_the_places_public_url(places, as_):
    png = as_("student").get("/places/D9-3F-WC/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode(png.data) == ["http://localhost/r/D9-3F-WC"]  # no base URL configured: this host's
    svg = as_("food").get("/places/D9-3F-WC/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.data.startswith(b"<?xml") and b"<path" in svg.data and "东侧卫生间".encode() in svg.data
    assert as_(None).get("/places/D9/qr.png").status_code == 401
    missing = as_("inspector").get("/places/NOPE/qr.svg")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_the_configured_public_base_url_is_what_the_code_holds(campus):
    build_places(campus)
    app = create_app({"STORE": campus.store, "TESTING": True, "PUBLIC_BASE_URL": "https://xuncha.example.edu.cn/"})
    png = app.test_client().get("/api/v1/places/C1-W1/qr.png",
                                headers={"Authorization": f"Bearer {campus.tokens['admin']}"})
    assert decode(png.data) == ["https://xuncha.example.edu.cn/r/C1-W1"]


def test_the_print_sheet_has_twelve_codes_to_an_a4_page_for_a_subtree(places, as_):
    sheet = as_("inspector").get("/places/MAIN/qr-sheet")
    assert sheet.status_code == 200 and sheet.mimetype == "text/html"
    html = sheet.get_data(as_text=True)
    assert "size: A4" in html
    pages = html.split('<section class="page">')[1:]
    counts = [page.count('<div class="label">') for page in pages]
    assert counts == [12, len(TREE) - 12]  # 16 places: a full page and the rest
    assert html.count("扫码反映问题") == len(TREE) and html.count("<svg") == len(TREE)
    assert "学生公寓9号楼3层东侧卫生间" in html and ">D9-3F-WC<" in html
    assert re.search(r"default-src 'none'", sheet.headers["Content-Security-Policy"])
    one = as_("inspector").get("/places/D9-4F/qr-sheet").get_data(as_text=True)
    assert one.count('<div class="label">') == 2  # the floor and its washroom
