"""问题列表 and 问题详情: filter, page and export findings; read one and fire the events its person may fire."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from flask import flash, redirect, render_template, request, send_file, url_for

from engine import attachments, queries, receipts, recurrence, services
from engine.db import utcnow
from engine.errors import GuardRefused, InvalidEvent, InvalidFields, MissingFields, VersionConflict
from engine.models import SEVERITIES, SOURCES
from engine.notify import history as notify_history
from engine.queries import FindingFilters
from web import zh
from web.context import store, uow
from web.pages import present as pp
from web.pages.common import current_actor, page_blueprint
from web.pages.forms import payload_from_form
from web.pages.tabular import csv_response

bp = page_blueprint("findings_page", __name__)
PER_PAGE = 20
SORTS = {"-id": "最新上报", "id": "最早上报", "due_at": "期限最近", "-updated_at": "最近变动", "severity": "严重程度",
         "state": "状态"}
EXPORT_LIMIT = 50_000


def parse_filters(args) -> tuple[FindingFilters, dict[str, str]]:
    """The list's query string as engine filters; values that do not parse are reported by field."""
    errors: dict[str, str] = {}
    overdue = {"1": True, "0": False}.get(args.get("overdue", ""))
    filters = FindingFilters(
        state=[s for s in args.getlist("state") if s], unit=args.get("unit") or None,
        category=args.get("category") or None, location=args.get("place") or None,
        source=args.get("source") or None, severity=args.get("severity") or None,
        inspection_round=args.get("round") or None, overdue=overdue, q=args.get("q") or None)
    zone = store().calendar.zone
    for key, attr, shift in (("from", "reported_from", 0), ("to", "reported_to", 1)):
        text = args.get(key)
        if not text:
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[key] = "须为日期（年-月-日）"
            continue
        moment = datetime.combine(day + timedelta(days=shift), time(0), zone)
        setattr(filters, attr, moment - timedelta(microseconds=shift))
    return filters, errors


@bp.route("/findings")
def index():
    filters, errors = parse_filters(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "-id"
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    work, actor = uow(), current_actor()
    page = queries.Page([])
    if not errors:
        try:
            page = queries.list_findings(work, actor, filters, sort=sort, page=page_no, per_page=PER_PAGE)
        except InvalidFields as exc:
            errors = zh.field_errors(exc.fields)
    workflows = {info.row.name: info.workflow for info in queries.active_workflows(work)}
    args = request.args.to_dict(flat=False)
    return render_template("findings/list.html", page=page, page_no=page_no, errors=errors, args=args,
                           sorts=SORTS, sort=sort, units=queries.list_units(work), workflows=workflows,
                           severities=SEVERITIES, sources=SOURCES,
                           qs=lambda **kw: url_for(".index", **{**args, **kw})), 422 if errors else 200


@bp.route("/findings.csv")
def export():
    filters, errors = parse_filters(request.args)
    if errors:
        raise InvalidFields(errors)
    work, actor = uow(), current_actor()
    queries.list_findings(work, actor, filters, per_page=1)  # refuse bad filters now, before streaming

    now = utcnow()

    def rows():
        cursor, sent = None, 0
        while sent < EXPORT_LIMIT:
            page = queries.list_findings(work, actor, filters, sort="-id", cursor=cursor, per_page=queries.MAX_PER_PAGE)
            for view in page.items:
                f = view.finding
                yield [f.id, f.title, pp.state_label(view.workflow, f.state), view.unit.name, f.category,
                       f.location, pp.SEVERITIES.get(f.severity, f.severity), pp.SOURCES.get(f.source, f.source),
                       f.inspection_round, pp.localtime(f.created_at), pp.localtime(f.due_at),
                       "是" if f.due_at and f.due_at < now else "否",
                       view.reporter]
                sent += 1
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    header = ["编号", "标题", "状态", "责任单位", "类别", "地点", "严重程度", "来源", "巡查轮次", "上报时间",
              "整改期限", "是否超期", "上报人"]
    return csv_response(header, rows(), "findings.csv")


@bp.route("/findings/<int(max=2147483647):finding_id>")
def detail(finding_id: int):
    return render_detail(finding_id)


def render_detail(finding_id: int, *, open_event: str | None = None, errors: dict | None = None,
                  values: dict | None = None, banner: str | None = None, status: int = 200):
    work, actor = uow(), current_actor()
    view = queries.get_finding(work, finding_id, actor)
    links = recurrence.links(work, finding_id, actor)  # only the linked findings within the person's reach
    history = queries.history(work, finding_id, actor)
    files = attachments.list_attachments(work, finding_id, actor)
    told = notify_history.finding_history(work, actor, finding_id)  # who was told what, and when
    versions = {(view.finding.workflow_name, view.finding.workflow_version): view.workflow}
    for entry in history:
        key = (entry.workflow_name, entry.workflow_version)
        if key not in versions:
            versions[key] = work.registry.get(work.session, *key)
    return render_template("findings/detail.html", view=view, f=view.finding, wf=view.workflow, links=links,
                           history=history, files=files, told=told, versions=versions, open_event=open_event,
                           errors=errors or {}, values=values or {}, banner=banner, token=uuid.uuid4().hex,
                           pp=pp), status


@bp.route("/findings/<int(max=2147483647):finding_id>/events/<string(maxlength=64):event>", methods=["POST"])
def fire(finding_id: int, event: str):
    """Fire an event from the detail page's form; the form's version and token keep it from acting twice."""
    work, actor = uow(), current_actor()
    token = request.form.get("token", "")[:64]
    done = receipts.seen(work, actor.user_id, token) if token else None
    if done:
        flash("此操作已经提交并执行过，没有重复执行。")
        return redirect(done, 303)
    version = request.form.get("version", type=int)
    finding = services.load_finding(work, finding_id, actor)
    workflow = work.registry.get(work.session, finding.workflow_name, finding.workflow_version)
    transitions = workflow.outgoing(finding.state, event)
    values = request.form.to_dict()
    try:
        if version is not None and version != finding.version:
            raise VersionConflict(version, finding.version)
        if not transitions:
            raise InvalidEvent(finding.state, event, workflow.events_from(finding.state))
        payload = payload_from_form(work, finding_id, actor, transitions[0], request.form, request.files)
        from_state = finding.state
        moved = services.advance(work, finding_id, event, actor, payload,
                                 comment=request.form.get("comment") or None, expected_version=version)
    except VersionConflict:
        work.rollback()
        again = receipts.seen(work, actor.user_id, token) if token else None
        if again:  # the same form, sent twice at once: the other copy did it
            flash("此操作已经提交并执行过，没有重复执行。")
            return redirect(again, 303)
        return render_detail(finding_id, banner="conflict", status=409)
    except (MissingFields, GuardRefused, InvalidEvent) as exc:
        work.rollback()
        problems = zh.field_errors(getattr(exc, "fields", {}))
        if not problems:
            problems["_form"] = zh.detail(exc)
        return render_detail(finding_id, open_event=event, errors=problems, values=values, status=422)
    location = url_for(".detail", finding_id=finding_id)
    if token:
        receipts.remember(work, actor.user_id, token, location)
    work.commit()
    flash(f"已执行：{pp.event_label(workflow, event, from_state, moved.state)}")
    return redirect(location, 303)


@bp.route("/findings/<int(max=2147483647):finding_id>/files/<int(max=2147483647):attachment_id>")
def file(finding_id: int, attachment_id: int):
    item, path = attachments.get_attachment(uow(), finding_id, attachment_id, current_actor())
    inline = item.content_type.startswith("image/") or item.content_type == "application/pdf"
    return send_file(path, mimetype=item.content_type, download_name=item.name, as_attachment=not inline,
                     max_age=3600)

