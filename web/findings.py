"""/findings: report, list, read, move and trace findings."""
from __future__ import annotations

from flask import request, url_for

from engine import ledger, queries, recurrence, services
from engine.errors import InvalidFields, NotFound
from web import present
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import etag, expected_version, uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas import (
    AuditRowSchema,
    FindingPageSchema,
    FindingQuerySchema,
    FindingSchema,
    ReportSchema,
    TransitionSchema,
)
from web.xlsx import XLSX, xlsx_response

blp = Blueprint("findings", __name__, url_prefix="/api/v1/findings", description="Inspection findings")
blp.before_request(authenticate)
FINDING_ID = "<int(max=2147483647):finding_id>"
PAGING = ("sort", "cursor", "page", "after", "per_page")


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(ReportSchema())
@blp.response(201, FindingSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(parameters=[KEY_PARAMETER])
def report(args):
    """Report a finding; it starts in its workflow's initial state (Location names it)."""
    actor, comment = current_actor(), args.pop("comment")
    # Within a round the round gives the source (a centre's round is self-inspection).
    args["source"] = args["source"] or ("public" if "public" in actor.roles else
                                        None if args["round"] else "department")
    try:
        finding = services.report_finding(uow(), actor, services.Report(**args), comment=comment)
    except NotFound as exc:  # the only lookup by name here is the workflow the caller named
        raise InvalidFields({"workflow": str(exc)}) from None
    view = queries.finding_view(uow(), finding, actor)
    return present.finding(view), {"Location": url_for(".finding", finding_id=finding.id), **etag(finding.version)}


@blp.route("", methods=["GET"])
@blp.arguments(FindingQuerySchema, location="query")
@blp.response(200, FindingPageSchema)
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=XLSX, success=True,
                  description="format=xlsx: the ledger (整改台账), every matching finding, Chinese headers")
def index(args):
    """Findings the caller may see, filtered; `next` is the URL of the following page."""
    if args.pop("format") == "xlsx":
        return _ledger(args)
    paging = {k: args.pop(k) for k in PAGING if k in args}
    page = queries.list_findings(uow(), current_actor(), queries.FindingFilters(**args), **paging)
    following = None
    if page.next_cursor is not None or page.next_page is not None:
        query = request.args.to_dict()
        if "after" in paging:  # a caller walking by `after` keeps doing so
            query["after"] = page.after
        else:
            query.update({"cursor": page.next_cursor} if page.next_cursor is not None else {"page": page.next_page})
        following = url_for(".index", **query)
    return {"items": [present.finding(v) for v in page.items], "next": following, "after": page.after}


def _ledger(args):
    for key in PAGING:
        args.pop(key, None)
    rows = ledger.ledger_rows(uow(), current_actor(), queries.FindingFilters(**args))
    page = request.host_url.rstrip("/") + "/findings/{}"
    return xlsx_response("findings.xlsx", "整改台账", ledger.COLUMNS, rows, link=page.format)


@blp.route(f"/{FINDING_ID}", methods=["GET"])
@blp.response(200, FindingSchema, headers={"ETag": {"schema": {"type": "string"}}})
def finding(finding_id):
    """One finding with `events` (what the caller may do now, the fields each needs) and its recurrence links."""
    view = queries.get_finding(uow(), finding_id, current_actor())
    return {**present.finding(view), **recurrence.links(uow(), finding_id, current_actor())}, etag(view.finding.version)


@blp.route(f"/{FINDING_ID}/transitions", methods=["POST"])
@idempotent
@blp.arguments(TransitionSchema())  # an instance: a class is instantiated on every request
@blp.response(200, FindingSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.doc(parameters=[KEY_PARAMETER, {"in": "header", "name": "If-Match", "required": False,
                                     "schema": {"type": "string"},
                                     "description": "the ETag last read; a stale one answers 412, changes nothing"}])
def transition(args, finding_id):
    """Fire an event on the finding (the one path every state change takes)."""
    actor = current_actor()
    finding = services.advance(uow(), finding_id, args["event"], actor, args["payload"], comment=args["comment"],
                               expected_version=expected_version())
    return present.finding(queries.finding_view(uow(), finding, actor)), etag(finding.version)


@blp.route(f"/{FINDING_ID}/history", methods=["GET"])
@blp.response(200, AuditRowSchema(many=True))
def history(finding_id):
    """Every audit row of the finding, in order."""
    return [present.audit_row(e) for e in queries.history(uow(), finding_id, current_actor())]
