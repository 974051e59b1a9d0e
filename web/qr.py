"""/places/{code}/qr.svg, .png and /qr-sheet: the QR codes leading to a place's public page, and print sheets.

The code holds the public URL of the place's page (XUNCHA_PUBLIC_BASE_URL + /r/<code>, or this host's URL).
Bearer tokens as on every API call, or the signed-in session of the pages (the places page links the sheet)."""
from __future__ import annotations

import io
from urllib.parse import quote

import segno
from flask import Response, current_app, render_template, request, session

from engine import public
from web.auth import authenticate
from web.blueprint import Blueprint
from web.context import uow
from web.pages.common import SESSION_USER, require_sign_in

blp = Blueprint("qr", __name__, url_prefix="/api/v1/places", description="QR codes of places (二维码) and print sheets")
CODE = "<string(maxlength=64):code>"
PER_PAGE = 12  # an A4 sheet: 3 across, 4 down, each code about 5 cm
CALL_TO_ACTION = "扫码反映问题"


@blp.before_request
def _reader():
    if "Authorization" not in request.headers and isinstance(session.get(SESSION_USER), int):
        if require_sign_in() is None:
            return None
    return authenticate()


def public_url(code: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/r/{quote(code, safe='')}"


def _qr(code: str) -> segno.QRCode:
    # Level M survives a scuffed sticker; the URL is short enough that the code stays small.
    return segno.make(public_url(code), error="m", micro=False)


@blp.route(f"/{CODE}/qr.svg", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="image/svg+xml")
def qr_svg(code):
    """The place's QR code as SVG, leading to its public page /r/{code}."""
    place = public.public_place(uow(), code)
    out = io.BytesIO()
    _qr(place.code).save(out, kind="svg", scale=10, border=4, title=f"{place.name} {CALL_TO_ACTION}")
    return Response(out.getvalue(), content_type="image/svg+xml")


@blp.route(f"/{CODE}/qr.png", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
def qr_png(code):
    """The place's QR code as PNG, leading to its public page /r/{code}."""
    place = public.public_place(uow(), code)
    out = io.BytesIO()
    _qr(place.code).save(out, kind="png", scale=10, border=4)
    return Response(out.getvalue(), content_type="image/png")


@blp.route(f"/{CODE}/qr-sheet", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="text/html")
def qr_sheet(code):
    """A4 sheets to print for the place and every active place below it: 12 QR codes a page, each with the
    place's code, its Chinese name and a call to action."""
    places = public.subtree_places(uow(), code)
    labels = [{"code": p.code, "name": p.name, "url": public_url(p.code),
               "svg": _qr(p.code).svg_inline(scale=4, border=2, omitsize=True)} for p in places]
    pages = [labels[i:i + PER_PAGE] for i in range(0, len(labels), PER_PAGE)]
    page = render_template("public/qr_sheet.html", root=code, pages=pages, call_to_action=CALL_TO_ACTION)
    return Response(page, content_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        "X-Content-Type-Options": "nosniff"})
