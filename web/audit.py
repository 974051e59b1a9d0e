"""/audit: the whole log for auditors and administrators, as JSON pages or a streamed CSV, and its check."""
from __future__ import annotations

import csv
import io
import json

from flask import Response, request, url_for
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engine import queries, sheets
from engine.audit import runs
from web import present
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.schemas import MAX_ID, AuditRowSchema, Moment, Text, to_utc
from web.xlsx import XLSX_RESPONSE, xlsx_response

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit log")
blp.before_request(authenticate)
CSV_COLUMNS = ("id", "finding_id", "unit", "seq", "event", "from_state", "to_state", "actor", "role", "at",
               "payload", "comment", "workflow", "workflow_version", "prev_hash", "hash")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A log this small is checked whole inside a request; a larger one answers with the last full run.
INLINE_ROWS = 20_000
MAX_RANGE = 10_000


class AuditQuerySchema(Schema):
    since = Moment()
    until = Moment(metadata={"description": "a bare date includes that whole day"})
    actor = Text(validate=validate.Length(1, 100))
    unit = Text(validate=validate.Length(1, 64), metadata={"description": "unit code; includes units below"})
    event = Text(validate=validate.Length(1, 64))
    workflow = Text(validate=validate.Length(1, 64))
    finding = fields.Integer(validate=validate.Range(1, MAX_ID))
    cursor = fields.Integer(validate=validate.Range(0, MAX_ID), metadata={"description": "from `next`"})
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, MAX_ID),
                              metadata={"description": f"at most {queries.MAX_PER_PAGE} are sent"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))

    @post_load
    def _times(self, data, **_):
        for name in ("since", "until"):
            if name in data:
                data[name] = to_utc(data[name], end_of_day=name == "until")
        return data


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditRowSchema), required=True)
    next = fields.String(allow_none=True, required=True)


class ChainReportSchema(Schema):
    ok = fields.Boolean(required=True)
    rows_checked = fields.Integer(required=True)
    finding_id = fields.Integer()
    seq = fields.Integer()
    problem = fields.String()
    chain = fields.String(metadata={"description": "the record chain of the first break (sanctions, users...)"})
    scope = fields.String(metadata={"description": "finding | range | all | last_full_run | none"})
    checked_at = fields.DateTime(metadata={"description": "when the reported full run ran (scope last_full_run)"})
    authenticated = fields.Boolean(metadata={"description": "rows' MACs were checked with the audit key"})
    signed_rows = fields.Integer()
    unsigned_rows = fields.Integer(metadata={"description": "rows written without a key: plain chain only"})
    records_checked = fields.Integer()
    break_count = fields.Integer()
    breaks = fields.List(fields.Dict())
    anchor = fields.Dict()


class VerifyQuerySchema(Schema):
    finding = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "check this finding"})
    first = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "range: first finding id"})
    last = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "range: last finding id"})

    @validates_schema
    def _range(self, data, **_):
        if ("first" in data) != ("last" in data):
            raise ValidationError("give both first and last", "last" if "first" in data else "first")
        if "first" in data and not 0 <= data["last"] - data["first"] < MAX_RANGE:
            raise ValidationError(f"a range runs forward over at most {MAX_RANGE} finding ids", "last")


@blp.route("", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditPageSchema)
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True,
                  description="format=csv: every matching row, UTF-8 with a BOM")
@blp.alt_response(200, **XLSX_RESPONSE)
def index(args):
    """The audit log in the order written, filtered; `format=csv` (or `xlsx`) exports all of it."""
    fmt, cursor, per_page = args.pop("format"), args.pop("cursor", None), args.pop("per_page")
    filters = queries.AuditFilters(**args)
    if fmt == "xlsx":  # written in constant memory, a batch of rows at a time: the log may be millions long
        rows = queries.export_audit(uow(), current_actor(), filters)
        return xlsx_response("audit.xlsx", "审计日志", sheets.AUDIT_COLUMNS,
                             sheets.audit_rows(rows, uow().calendar.zone))
    if fmt == "csv":
        rows = queries.export_audit(uow(), current_actor(), filters)
        return Response(_csv(rows), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    page = queries.audit_page(uow(), current_actor(), filters, after=cursor, per_page=per_page)
    following = None
    if page.next_cursor is not None:
        following = url_for(".index", **{**request.args.to_dict(), "cursor": page.next_cursor})
    return {"items": [present.audit_row(entry, code) for entry, code in page.items], "next": following}


@blp.route("/verify", methods=["GET"])
@blp.arguments(VerifyQuerySchema, location="query")
@blp.response(200, ChainReportSchema)
def verify(args):
    """Check one finding (`finding`) or a range of findings (`first`, `last`) now; without them, the whole
    log if it is small, else the result of the last full `xuncha audit verify` (`scope` says which)."""
    queries.require_audit_reader(current_actor())
    store = uow().store
    if args:
        return runs.check(store, finding_id=args.get("finding"), first=args.get("first"),
                          last=args.get("last")).as_dict()
    if runs.log_size(uow().session) <= INLINE_ROWS:
        return runs.check(store).as_dict()
    last = runs.last_run(uow().session)
    if last is None:
        return {"ok": False, "rows_checked": 0, "scope": "none",
                "problem": "the log is too large to check in a request and no full check has run: run "
                           "`xuncha audit verify` (a cron line), or check a finding or a range"}
    return {**last.report, "scope": "last_full_run", "checked_at": last.at}


def _csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"  # lets Excel recognise UTF-8 and show the Chinese text
    writer.writerow(CSV_COLUMNS)
    for entry, code in rows:
        row = present.audit_row(entry, code)
        row["at"] = row["at"].isoformat()
        row["payload"] = json.dumps(row["payload"], ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(value):
    # A cell starting like a formula would run in a spreadsheet; a leading quote keeps it text.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
