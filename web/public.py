"""The public pages a place's QR code leads to: report a problem there (no sign-in), follow it, rate the result.

Mobile first, Chinese, no scripts and nothing from another host. Forms carry Flask-WTF's CSRF token, which
lives in the anonymous visitor's session cookie, so a form is accepted only from the browser that loaded it."""
from __future__ import annotations

import logging

from flask import redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from engine import public
from engine.errors import InvalidFields, InvalidInput, MissingFields, NotFound
from web import zh
from web.context import uow
from web.pages.common import page_blueprint
from web.ratelimit import client_limit, limiter, place_key, place_limit, rating_limit

bp = page_blueprint("public_page", __name__, public=True)
log = logging.getLogger(__name__)
HONEYPOT = "website"  # hidden from people by the stylesheet; a bot filling every field fills it
CODE = "<string(maxlength=64):code>"
FIELD_NAMES = {"category": "类别", "description": "问题描述", "contact": "联系方式", "photos": "照片",
               "rating": "满意度"}


@bp.route(f"/r/{CODE}", methods=["GET"])
def report_form(code):
    place = public.public_place(uow(), code)
    return _form(place, {}, {})


def _form(place, values: dict, errors: dict, status: int = 200):
    return render_template("public/report.html", place=place, values=values, errors=errors,
                           categories=public.categories(uow()), honeypot=HONEYPOT,
                           max_photos=public.MAX_PHOTOS), status


@bp.route(f"/r/{CODE}", methods=["POST"])
@limiter.limit(client_limit, methods=["POST"])
@limiter.limit(place_limit, key_func=place_key, methods=["POST"])
def submit(code):
    work = uow()
    place = public.public_place(work, code)
    values = {k: request.form.get(k, "") for k in ("category", "description", "contact")}
    if request.form.get(HONEYPOT):
        # A bot: it sees what a person sees after sending, and nothing is stored.
        log.info("public report at %s dropped: honeypot filled", code)
        return render_template("public/thanks.html", place=place), 200
    photos = [public.Photo(f.filename, f.mimetype, f.stream) for f in request.files.getlist("photos")
              if f and f.filename]
    try:
        report = public.submit(work, public.Submission(code, values["category"].strip(), values["description"],
                                                       values["contact"]), photos)
    except (MissingFields, InvalidFields) as exc:
        work.rollback()
        return _form(place, values, {k: zh.message(str(v)) for k, v in exc.fields.items()}, 422)
    work.commit()
    return redirect(url_for(".receipt", code=report.receipt, new=1), 303)


@bp.route("/r/receipt", methods=["GET"])
def lookup():
    """查询进度: a receipt code typed in (case, spaces and dashes do not matter) leads to its page."""
    code = public.normal_receipt(request.args.get("code", ""))
    if code:
        return redirect(url_for(".receipt", code=code), 303)
    return render_template("public/lookup.html")


@bp.route(f"/r/receipt/{CODE}", methods=["GET"])
def receipt(code):
    found = public.receipt(uow(), code)
    return render_template("public/receipt.html", receipt=found, new=request.args.get("new") == "1",
                           error=None)


@bp.route(f"/r/receipt/{CODE}", methods=["POST"])
@limiter.limit(rating_limit, methods=["POST"])
def rate(code):
    work = uow()
    try:
        stars = int(request.form.get("rating", ""))
    except ValueError:
        stars = 0
    try:
        public.rate(work, code, stars)
    except (InvalidFields, InvalidInput) as exc:
        work.rollback()
        message = zh.message(next(iter(exc.fields.values()))) if isinstance(exc, InvalidFields) else str(exc)
        return render_template("public/receipt.html", receipt=public.receipt(work, code), new=False,
                               error=message), 422
    work.commit()
    return redirect(url_for(".receipt", code=code, rated=1), 303)


@bp.errorhandler(NotFound)
def not_found(exc: NotFound):
    what = "反映记录" if exc.what == "receipt" else "地点"
    return render_template("public/message.html", title=f"未找到该{what}",
                           detail="请核对二维码或回执编号；地点停用后不再接收反映。"), 404


@bp.errorhandler(RateLimitExceeded)
def too_many(exc: RateLimitExceeded):
    return render_template("public/message.html", title="提交过于频繁",
                           detail="您或本地点近期提交的反映较多，请稍后再试。紧急情况请直接联系现场工作人员。"), 429


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError):
    return render_template("public/message.html", title="页面已过期",
                           detail="请重新扫码或刷新页面后再提交（需允许浏览器保存 Cookie）。"), 400
