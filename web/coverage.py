"""/coverage: checks of every service place and period against the targets, and the blind spots (死角)."""
from __future__ import annotations

from flask import Response, current_app

from engine import coverage as engine_coverage
from engine import sheets
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.loop import CSV_RESPONSE, _csv
from web.schemas_places import CoverageQuerySchema, CoverageRowSchema, GapQuerySchema, GapSchema
from web.xlsx import XLSX_RESPONSE, xlsx_response

blp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage", description="Coverage (全覆盖) and gaps")
blp.before_request(authenticate)


def _query(args) -> engine_coverage.CoverageQuery:
    return engine_coverage.CoverageQuery(args["start"], args["end"], args.get("unit"), args.get("kind"),
                                         args.get("level"), args.get("place"))


def _json(items: list[dict]) -> Response:
    # Thousands of rows: dumped straight to JSON; the schema documents the same shape.
    return current_app.json.response(items)


@blp.route("", methods=["GET"])
@blp.arguments(CoverageQuerySchema, location="query")
@blp.response(200, CoverageRowSchema(many=True))
@blp.alt_response(200, **CSV_RESPONSE)
@blp.alt_response(200, **XLSX_RESPONSE)
def index(args):
    """Per service place and period: checks by level, the last one, and whether each configured target was met."""
    rows = engine_coverage.coverage(uow(), current_actor(), _query(args))
    if args["format"] == "csv":
        return _csv(engine_coverage.coverage_csv_rows(rows), f"coverage-{args['start']}-{args['end']}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(f"coverage-{args['start']}-{args['end']}.xlsx", "全覆盖", sheets.COVERAGE_COLUMNS,
                             sheets.coverage_rows(uow(), rows))
    return _json([r.as_dict() for r in rows])


@blp.route("/gaps", methods=["GET"])
@blp.arguments(GapQuerySchema, location="query")
@blp.response(200, GapSchema(many=True))
@blp.alt_response(200, **CSV_RESPONSE)
@blp.alt_response(200, **XLSX_RESPONSE)
def gaps(args):
    """Blind spots, worst first: periods below target, then places not checked in `days` (never checked first)."""
    found = engine_coverage.gaps(uow(), current_actor(), _query(args), stale_days=args.get("days"))
    if args["format"] == "csv":
        return _csv(engine_coverage.gap_csv_rows(found), f"gaps-{args['start']}-{args['end']}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(f"gaps-{args['start']}-{args['end']}.xlsx", "巡查死角", sheets.GAP_COLUMNS,
                             sheets.gap_rows(uow(), found))
    return _json([g.as_dict() for g in found])
