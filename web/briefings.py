"""/briefings: numbered briefings (巡查简报) drafted from the data, published once, read as JSON, Word, PDF, HTML."""
from __future__ import annotations

import hashlib

from flask import Response, url_for
from marshmallow import Schema, ValidationError, fields, validate

from engine.briefings import pdf, service
from engine.briefings.build import Scope
from engine.briefings.docx import render_docx
from engine.briefings.formats import publishing_renderers
from engine.briefings.html import render_html
from engine.errors import InvalidFields
from engine.models import Briefing
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import idempotent
from web.schemas import MAX_ID, Text
from web.schemas_loop import Day

blp = Blueprint("briefings", __name__, url_prefix="/api/v1/briefings", description="Briefings (巡查简报)")
blp.before_request(authenticate)
BRIEFING = "<int(max=2147483647):briefing_id>"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class RoundRef(fields.Field):
    """An inspection round's id, as a number or its digits; text is a legacy round name (the service decides
    which the data calls for and names an unknown id)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                             {"type": "string", "minLength": 1, "maxLength": 100}]}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= MAX_ID:
                raise ValidationError(f"a round id is between 1 and {MAX_ID}")
            return value
        if isinstance(value, str):
            return Text(validate=validate.Length(1, 100)).deserialize(value)
        raise ValidationError("a round id (an integer) or a round name (text)")


class DraftSchema(Schema):
    start = Day(data_key="from", metadata={"description": "first day, YYYY-MM-DD (not needed for a correction)"})
    end = Day(data_key="to", metadata={"description": "last day, YYYY-MM-DD, included"})
    rounds = fields.List(RoundRef(), load_default=list, metadata={
        "description": "only findings linked to these inspection rounds, by id (GET /rounds); where the data has "
                       "no rounds at all, the free-text round names of findings kept before rounds existed"})
    unit = Text(load_default=None, validate=validate.Length(1, 64),
                metadata={"description": "unit code: only it and the units below it"})
    title = Text(load_default=None, validate=validate.Length(1, 300))
    corrects = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID),
                              metadata={"description": "id of the published briefing this one corrects (更正)"})


class BriefingQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(["draft", "published"]))


class BriefingSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    number = fields.Integer(allow_none=True)
    number_text = fields.String(allow_none=True, metadata={"description": "2026年第12期, once published"})
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    rounds = fields.List(fields.String(), required=True)
    unit = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    corrects = fields.Integer(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    published_by = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    files = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "{format: sha256} of the files frozen on publication"})
    links = fields.Dict(keys=fields.String(), values=fields.String())


class BriefingDetailSchema(BriefingSchema):
    content = fields.Dict(required=True, metadata={"description": "masthead, summary, centres, highlights, "
                                                                  "sanctions, commendations, coverage, anchor"})


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(DraftSchema)
@blp.response(201, BriefingSchema, headers={"Location": {"schema": {"type": "string"}}})
def draft(args):
    """Draft a briefing for a period (optionally rounds and a unit), or a correction of a published one
    (administrators and inspectors); it is numbered only when published."""
    if ("start" in args) != ("end" in args):
        raise InvalidFields({"from" if "start" not in args else "to": "required with the other end of the period"})
    scope = Scope(args["start"], args["end"], tuple(args["rounds"]), args["unit"]) if "start" in args else None
    row = service.draft(uow(), current_actor(), scope, corrects=args["corrects"], title=args["title"])
    return _meta(row), {"Location": url_for(".briefing", briefing_id=row.id)}


@blp.route("", methods=["GET"])
@blp.arguments(BriefingQuerySchema, location="query")
@blp.response(200, BriefingSchema(many=True))
def index(args):
    """Briefings, newest first (drafts only for those who draft them)."""
    rows = service.list_briefings(uow(), current_actor(), status=args.get("status"))
    files = service.files_of(uow(), [r.id for r in rows])
    return [_meta(r, files.get(r.id, {})) for r in rows]


@blp.route(f"/{BRIEFING}", methods=["GET"])
@blp.response(200, BriefingDetailSchema)
def briefing(briefing_id):
    """A briefing and its content: frozen if published, built from the data as it stands if a draft."""
    content = service.content(uow(), current_actor(), briefing_id)
    row = uow().session.get(Briefing, briefing_id)
    return {**_meta(row, service.files_of(uow(), [row.id]).get(row.id, {})), "content": content}


@blp.route(f"/{BRIEFING}/publish", methods=["POST"])
@idempotent
@blp.response(200, BriefingSchema)
def publish(briefing_id):
    """Number the draft (the next of its year), freeze its content and store its Word file (and PDF where
    LibreOffice is installed) with their sha256; a published briefing answers 409."""
    row = service.publish(uow(), current_actor(), briefing_id, publishing_renderers())
    return _meta(row, service.files_of(uow(), [row.id]).get(row.id, {}))


@blp.route(f"/{BRIEFING}.docx", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type=DOCX)
def docx(briefing_id):
    """The Word file: as frozen on publication, or rendered now for a draft."""
    stored = service.stored_file(uow(), current_actor(), briefing_id, "docx")
    data = stored.data if stored else render_docx(_content(briefing_id), service.photo_finder(uow()))
    return _file(data, DOCX, briefing_id, "docx")


@blp.route(f"/{BRIEFING}.pdf", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
def pdf_file(briefing_id):
    """The PDF: as stored on publication, else converted from the Word file by LibreOffice (409 without it)."""
    stored = service.stored_file(uow(), current_actor(), briefing_id, "pdf")
    if stored is None:
        frozen = service.stored_file(uow(), current_actor(), briefing_id, "docx")
        source = frozen.data if frozen else render_docx(_content(briefing_id), service.photo_finder(uow()))
        return _file(pdf.docx_to_pdf(source), "application/pdf", briefing_id, "pdf")
    return _file(stored.data, "application/pdf", briefing_id, "pdf")


@blp.route(f"/{BRIEFING}.html", methods=["GET"])
@blp.response(200, {"type": "string"}, content_type="text/html")
def html(briefing_id):
    """The same content as a web page, photos inlined."""
    page = render_html(_content(briefing_id), service.photo_finder(uow()))
    return Response(page, content_type="text/html; charset=utf-8")


def _content(briefing_id: int) -> dict:
    return service.content(uow(), current_actor(), briefing_id)


def _file(data: bytes, content_type: str, briefing_id: int, fmt: str) -> Response:
    digest = hashlib.sha256(data).hexdigest()
    return Response(data, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="briefing-{briefing_id}.{fmt}"', "ETag": f'"{digest}"'})


def _meta(row: Briefing, files: dict | None = None) -> dict:
    links = {fmt: url_for(f".{view}", briefing_id=row.id)
             for fmt, view in (("self", "briefing"), ("docx", "docx"), ("pdf", "pdf_file"), ("html", "html"))}
    return {"id": row.id, "status": row.status, "year": row.year, "number": row.number,
            "number_text": service.number_text(row.year, row.number) if row.number else None,
            "start": row.period_start, "end": row.period_end, "rounds": list(row.rounds or []),
            "unit": row.unit_code, "title": row.title, "corrects": row.corrects_id, "created_by": row.created_by,
            "created_at": row.created_at, "published_by": row.published_by, "published_at": row.published_at,
            "files": files or {}, "links": links}
