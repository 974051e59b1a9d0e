"""/coverage: checks of every service place and period against the targets, and the blind spots (死角)."""
from __future__ import annotations

import orjson
from flask import Response, current_app
from werkzeug.http import http_date

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
    return _plain_json(coverage_json(rows))


def _plain_json(items: list) -> Response:
    """The bytes the app's JSON provider writes (keys sorted, compact, UTF-8, a final newline) for JSON made of
    plain values, written by orjson: the C encoder of `json` takes longer over a year of rows than the query."""
    provider = current_app.json
    if current_app.debug or provider.compact is False or not provider.sort_keys:
        return provider.response(items)  # indented for reading, or unsorted as configured
    try:
        body = orjson.dumps(items, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # text UTF-8 cannot carry (lone surrogates): the provider escapes it
        return provider.response(items)
    return current_app.response_class(body, mimetype=provider.mimetype)


def coverage_json(rows: list[engine_coverage.CoverageRow]) -> list[dict]:
    """The rows as CoverageRowSchema documents them (what `as_dict` gives, the time as Flask writes it), built
    in one pass: a year of every place is tens of thousands of rows, which share their targets' results
    (engine.coverage), so each shared tuple becomes dicts, and its `met`, once."""
    dumped: dict[int, tuple[list[dict], bool | None]] = {}
    out = []
    for r in rows:
        targets = dumped.get(id(r.targets))
        if targets is None:
            listed = [t.as_dict() for t in r.targets]
            targets = dumped[id(r.targets)] = (listed, all(t["met"] for t in listed) if listed else None)
        at = r.last_check_at
        out.append({"place": r.place, "name": r.name, "kind": r.kind, "unit": r.unit, "period": r.period,
                    "checks": r.checks, "last_check_at": None if at is None else http_date(at),
                    "targets": targets[0], "met": targets[1]})
    return out


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
