"""上报问题: an inspector, a centre or a member of the public reports a finding, with photos."""
from __future__ import annotations

import uuid
from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for

from engine import attachments, public, queries, receipts, services
from engine.errors import InvalidFields, MissingFields
from engine.models import SEVERITIES, SOURCES
from web import zh
from web.context import uow
from web.pages.common import current_actor, page_blueprint, require_roles

bp = page_blueprint("report_page", __name__)
REPORTERS = ("inspector", "centre", "admin", "public")
FIELDS = ("title", "unit", "category", "location", "severity", "source", "inspection_round", "description", "place",
          "round")


def default_source(roles) -> str:
    if "public" in roles:
        return "public"
    return "self_inspection" if "centre" in roles else "department"


@bp.route("/report", methods=["GET"])
@require_roles(*REPORTERS)
def new():
    # A round's page and a place's page link here with ?round= and ?place=, so the finding lands in them.
    given = {k: request.args.get(k, "").strip()[:64] for k in ("place", "round")}
    return _form({"source": default_source(current_actor().roles), "severity": "normal", **given}, {})


def _form(values: dict, errors: dict, status: int = 200):
    work, actor = uow(), current_actor()
    units = [u for u in queries.list_units(work) if "centre" not in actor.roles or actor.can_reach(u.id)]
    if not values.get("unit") and actor.unit_id:
        values["unit"] = next((u.code for u in units if u.id == actor.unit_id), "")
    return render_template("findings/report.html", values=values, errors=errors, units=units,
                           severities=SEVERITIES, sources=SOURCES, categories=public.suggested_categories(work),
                           public="public" in actor.roles, token=uuid.uuid4().hex), status


@bp.route("/report", methods=["POST"])
@require_roles(*REPORTERS)
def create():
    work, actor = uow(), current_actor()
    token = request.form.get("token", "")[:64]
    done = receipts.seen(work, actor.user_id, token) if token else None
    if done:
        flash("此问题已经上报过，没有重复上报。")
        return redirect(done, 303)
    values = {k: request.form.get(k, "").strip() for k in FIELDS}
    if "public" in actor.roles:
        values["source"] = "public"
        values["round"] = ""
    round_id = int(values["round"]) if values["round"].isdigit() and len(values["round"]) < 10 else None
    if round_id is not None and "public" not in actor.roles:
        values["source"] = ""  # the round's level decides: a centre's own round is self-inspection
    report = services.Report(title=values["title"], category=values["category"], location=values["location"],
                             unit=values["unit"], source=values["source"] or default_source(actor.roles),
                             severity=values["severity"] or "normal", description=values["description"],
                             inspection_round=values["inspection_round"] or None,
                             place=values["place"] or None, round=round_id)
    if round_id is not None and not values["source"]:
        report = replace(report, source=None)
    try:
        finding = services.report_finding(work, actor, report)
        for upload in request.files.getlist("photos"):
            if upload and upload.filename:
                try:
                    attachments.add_attachment(work, finding.id, actor, name=upload.filename,
                                               content_type=upload.mimetype, stream=upload.stream)
                except InvalidFields as exc:
                    raise InvalidFields({"photos": exc.fields.get("file", str(exc))}) from None
    except MissingFields as exc:
        work.rollback()
        return _form(values, zh.field_errors(exc.fields), 422)
    location = url_for("findings_page.detail", finding_id=finding.id) if round_id is None else \
        url_for("rounds_page.detail", round_id=round_id)  # back to the round, to record the check
    if token:
        receipts.remember(work, actor.user_id, token, location)
    work.commit()
    flash(f"问题已上报，编号 {finding.id}。")
    return redirect(location, 303)
