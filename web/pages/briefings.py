"""巡查简报: the numbered briefings, one read in the page (the same HTML renderer as /api/v1/briefings/<id>.html),
its Word and PDF files, and for administrators and inspectors drafting and publishing through the same use
cases as POST /briefings and POST /briefings/<id>/publish."""
from __future__ import annotations

import hashlib
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for

from engine import queries
from engine.briefings import pdf, service
from engine.briefings.build import Scope
from engine.briefings.docx import render_docx
from engine.briefings.formats import publishing_renderers
from engine.briefings.html import render_html
from engine.errors import Conflict, InvalidFields
from web import zh
from web.context import uow
from web.pages.common import current_actor, page_blueprint

bp = page_blueprint("briefings_page", __name__)
BRIEFING = "<int(max=2147483647):briefing_id>"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DRAFT_FIELDS = ("from", "to", "unit", "title", "rounds")
# The page frames the briefing's own standalone HTML; only this site may frame it.
FRAME_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'self'")


def may_draft() -> bool:
    return bool(set(service.DRAFTERS) & set(current_actor().roles))


@bp.route("/briefings")
def index():
    return _index({}, {})


def _index(errors: dict, values: dict, status: int = 200):
    work = uow()
    rows = service.list_briefings(work, current_actor())
    return render_template("briefings/index.html", rows=rows, files=service.files_of(work, [r.id for r in rows]),
                           number_text=service.number_text, may_draft=may_draft(), units=queries.list_units(work),
                           errors=errors, values=values), status


@bp.route("/briefings", methods=["POST"])
def draft():
    values = {k: request.form.get(k, "").strip() for k in DRAFT_FIELDS}
    corrects = request.form.get("corrects", "")
    if corrects.isdigit() and len(corrects) < 10:  # a correction (更正) keeps the published one's period and scope
        row = service.draft(uow(), current_actor(), None, corrects=int(corrects))
        uow().commit()
        flash("已起草更正期草稿：修改数据后发布，原期保持不变。")
        return redirect(url_for(".detail", briefing_id=row.id), 303)
    problems, days = {}, {}
    for key in ("from", "to"):
        try:
            days[key] = date.fromisoformat(values[key])
        except ValueError:
            problems[key] = "必填，须为日期（年-月-日）"
    if problems:
        return _index(problems, values, 422)
    rounds = tuple(r.strip() for r in values["rounds"].replace("，", ",").split(",") if r.strip())
    scope = Scope(days["from"], days["to"], rounds, values["unit"] or None)
    try:
        row = service.draft(uow(), current_actor(), scope, title=values["title"] or None)
    except InvalidFields as exc:
        uow().rollback()
        fields = {("rounds" if k == "round" else k): v for k, v in exc.fields.items()}
        return _index(zh.field_errors(fields), values, 422)
    uow().commit()
    flash("已起草简报草稿，核对内容后即可发布。")
    return redirect(url_for(".detail", briefing_id=row.id), 303)


@bp.route(f"/briefings/{BRIEFING}")
def detail(briefing_id: int):
    work = uow()
    row = service.get_briefing(work, current_actor(), briefing_id)
    files = service.files_of(work, [row.id]).get(row.id, {})
    unit = next((u.name for u in queries.list_units(work) if u.code == row.unit_code), None) if row.unit_code else None
    return render_template("briefings/detail.html", row=row, files=files, unit=unit, may_publish=bool(
        set(service.PUBLISHERS) & set(current_actor().roles)), pdf_ready=bool(files.get("pdf") or pdf.converter()),
        number=service.number_text(row.year, row.number) if row.number else None)


@bp.route(f"/briefings/{BRIEFING}/view")
def view(briefing_id: int):
    """The briefing as its own page (framed by the detail page, or opened full screen)."""
    work = uow()
    page = render_html(service.content(work, current_actor(), briefing_id), service.photo_finder(work))
    return Response(page, content_type="text/html; charset=utf-8", headers={"Content-Security-Policy": FRAME_CSP})


@bp.route(f"/briefings/{BRIEFING}/publish", methods=["POST"])
def publish(briefing_id: int):
    try:
        row = service.publish(uow(), current_actor(), briefing_id, publishing_renderers())
    except Conflict:
        uow().rollback()
        flash("此简报已经发布，发布后不能再改；如需更正，请起草更正期。")
        return redirect(url_for(".detail", briefing_id=briefing_id), 303)
    uow().commit()
    flash(f"已发布为{service.number_text(row.year, row.number)}，各单位将收到通知。")
    return redirect(url_for(".detail", briefing_id=briefing_id), 303)


@bp.route(f"/briefings/{BRIEFING}.docx")
def docx(briefing_id: int):
    """The Word file: as frozen on publication, or rendered now for a draft (as the API's)."""
    work = uow()
    stored = service.stored_file(work, current_actor(), briefing_id, "docx")
    data = stored.data if stored else render_docx(service.content(work, current_actor(), briefing_id),
                                                  service.photo_finder(work))
    return _file(data, DOCX, briefing_id, "docx")


@bp.route(f"/briefings/{BRIEFING}.pdf")
def pdf_file(briefing_id: int):
    """The PDF: as stored on publication, else converted from the Word file (refused without LibreOffice)."""
    work, actor = uow(), current_actor()
    stored = service.stored_file(work, actor, briefing_id, "pdf")
    if stored is not None:
        return _file(stored.data, "application/pdf", briefing_id, "pdf")
    frozen = service.stored_file(work, actor, briefing_id, "docx")
    source = frozen.data if frozen else render_docx(service.content(work, actor, briefing_id),
                                                    service.photo_finder(work))
    return _file(pdf.docx_to_pdf(source), "application/pdf", briefing_id, "pdf")


def _file(data: bytes, content_type: str, briefing_id: int, fmt: str) -> Response:
    return Response(data, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="briefing-{briefing_id}.{fmt}"',
        "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})
