"""审计: the audit log searched by finding, actor, event, unit and date; chain checks; CSV export."""
from __future__ import annotations

import itertools
import json
from datetime import date, datetime, time, timedelta

from flask import render_template, request, url_for

from engine import queries
from engine.errors import InvalidFields, NotFound
from engine.queries import AuditFilters
from web import zh
from web.context import store, uow
from web.pages import present as pp
from web.pages.common import current_actor, page_blueprint, require_roles
from web.pages.tabular import csv_response

bp = page_blueprint("audit_page", __name__)
READERS = queries.AUDIT_READERS
PER_PAGE = 50
EXPORT_LIMIT = 200_000


def parse(args) -> tuple[AuditFilters, dict[str, str]]:
    errors, filters = {}, AuditFilters(actor=args.get("actor") or None, unit=args.get("unit") or None,
                                       event=args.get("event") or None)
    finding = args.get("finding", "").strip().lstrip("#")
    if finding:
        if finding.isdigit() and len(finding) < 10:
            filters.finding = int(finding)
        else:
            errors["finding"] = "须为问题编号（数字）"
    zone = store().calendar.zone
    for key, attr, shift in (("from", "since", 0), ("to", "until", 1)):
        if args.get(key):
            try:
                day = date.fromisoformat(args[key])
            except ValueError:
                errors[key] = "须为日期（年-月-日）"
                continue
            setattr(filters, attr, datetime.combine(day + timedelta(days=shift), time(0), zone)
                    - timedelta(microseconds=shift))
    return filters, errors


@bp.route("/audit")
@require_roles(*READERS)
def index():
    work, actor = uow(), current_actor()
    filters, errors = parse(request.args)
    after = request.args.get("after", type=int)
    page = queries.Page([])
    if not errors:
        try:
            page = queries.audit_page(work, actor, filters, after=after, per_page=PER_PAGE)
        except (InvalidFields, NotFound) as exc:
            errors = zh.field_errors(getattr(exc, "fields", None) or {"unit": str(exc)})
    versions = {}
    for entry, _code in page.items:
        key = (entry.workflow_name, entry.workflow_version)
        if key not in versions:
            versions[key] = work.registry.get(work.session, *key)
    args = request.args.to_dict()
    args.pop("after", None)
    return render_template("audit/index.html", page=page, versions=versions, args=args, errors=errors,
                           units=queries.list_units(work), pp=pp,
                           next_url=url_for(".index", **args, after=page.next_cursor) if page.next_cursor else None
                           ), 422 if errors else 200


@bp.route("/audit/verify", methods=["POST"])
@require_roles(*READERS)
def verify():
    """Check one finding's chain (htmx swaps the answer into the page; without htmx it is a page of its own)."""
    text = request.form.get("finding", "").strip().lstrip("#")
    finding_id = int(text) if text.isdigit() and len(text) < 10 else None
    report, error = None, None
    if finding_id is None:
        error = "请输入问题编号（数字）。"
    else:
        try:
            report = queries.verify_chain(uow(), current_actor(), finding_id)
        except NotFound:
            error = f"没有编号为 {finding_id} 的问题。"
    template = "audit/_verify.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render_template(template, report=report, error=error, finding_id=finding_id)


@bp.route("/audit.csv")
@require_roles(*READERS)
def export():
    filters, errors = parse(request.args)
    if errors:
        raise InvalidFields(errors)
    source = queries.export_audit(uow(), current_actor(), filters)
    header = ["序号", "问题编号", "责任单位", "链内序号", "事件", "原状态", "新状态", "操作人", "角色", "时间",
              "内容", "备注", "流程", "流程版本", "前一哈希", "哈希"]

    def lines():
        try:
            for entry, unit in itertools.islice(source, EXPORT_LIMIT):
                yield [entry.id, entry.finding_id, unit, entry.seq, entry.event, entry.from_state, entry.to_state,
                       entry.actor, entry.role, pp.localtime(entry.at, "%Y-%m-%d %H:%M:%S"),
                       json.dumps(entry.payload, ensure_ascii=False), entry.comment, entry.workflow_name,
                       entry.workflow_version, entry.prev_hash, entry.hash]
        finally:
            source.close()  # ends the export's own read transaction even when the cap cut it short

    return csv_response(header, lines(), "audit.csv")
