"""The closed loop over HTTP: units and their scorecards, the ranking, sanctions, commendations, notifications."""
from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import date, timedelta

from flask import Response, request, url_for

from engine import policy, queries, records, scorecard, sheets, timers
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import Commendation, Notification, Sanction
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas import to_utc
from web.schemas_loop import (
    CSV_NOTE,
    CommendationInputSchema,
    CommendationPageSchema,
    CommendationQuerySchema,
    CommendationSchema,
    NotificationQuerySchema,
    NotificationSchema,
    PeriodQuerySchema,
    SanctionInputSchema,
    SanctionPageSchema,
    SanctionQuerySchema,
    SanctionSchema,
    ScorecardSchema,
    UnitSchema,
)
from web.xlsx import XLSX_RESPONSE, xlsx_response

units = Blueprint("units", __name__, url_prefix="/api/v1/units", description="Units and their scorecards")
scorecards = Blueprint("scorecards", __name__, url_prefix="/api/v1/scorecards", description="Unit ranking")
sanctions = Blueprint("sanctions", __name__, url_prefix="/api/v1/sanctions", description="Sanctions (追责问责)")
commendations = Blueprint("commendations", __name__, url_prefix="/api/v1/commendations",
                          description="Commendations (正面典型)")
notifications = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                          description="Reminders and missed deadlines, for the units responsible")
BLUEPRINTS = (units, scorecards, sanctions, commendations, notifications)
for _blp in BLUEPRINTS:
    _blp.before_request(authenticate)

CODE = "<string(maxlength=64):code>"
RECORD_ID = "<int(max=2147483647):record_id>"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_RESPONSE = {"schema": {"type": "string"}, "content_type": "text/csv", "success": True, "description": CSV_NOTE}
LOCATION = {"Location": {"schema": {"type": "string"}}}


# --- units and scorecards ------------------------------------------------------------------------------------

@units.route("", methods=["GET"])
@units.response(200, UnitSchema(many=True))
def unit_list():
    """Every unit, by code, with its parent's code."""
    return [{"code": u.code, "name": u.name, "name_en": u.name_en, "parent": u.parent.code if u.parent else None,
             "calendar": u.calendar} for u in queries.list_units(uow())]


@units.route(f"/{CODE}/scorecard", methods=["GET"])
@units.arguments(PeriodQuerySchema, location="query")
@units.response(200, ScorecardSchema)
@units.alt_response(200, **CSV_RESPONSE)
@units.alt_response(200, **XLSX_RESPONSE)
def unit_scorecard(args, code):
    """One unit's scorecard for a period, including the units below it (`subunits=false`: its own only).

    Inspectors, leaders, administrators and auditors read every unit; a service centre its own unit and those
    below it (any other answers 404, as if it did not exist); the public may not read scorecards (403)."""
    _require_scorecard_reader()
    card = scorecard.unit_scorecard(uow(), current_actor(), code, args["start"], args["end"],
                                    subunits=args["subunits"] is not False)
    if args["format"] == "csv":
        return _csv(scorecard.csv_rows([card]), f"scorecard-{code}-{args['start']}-{args['end']}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(f"scorecard-{code}-{args['start']}-{args['end']}.xlsx", "单位考核",
                             sheets.SCORECARD_COLUMNS, sheets.scorecard_rows([card], uow().calendar.zone))
    return _card(card)


@scorecards.route("", methods=["GET"])
@scorecards.arguments(PeriodQuerySchema, location="query")
@scorecards.response(200, ScorecardSchema(many=True))
@scorecards.alt_response(200, **CSV_RESPONSE)
@scorecards.alt_response(200, **XLSX_RESPONSE)
def ranking(args):
    """Every unit's scorecard for a period, best first (equal scores share a rank); units with nothing due to
    close in the period are not rated (no score, no rank) and come last. Each line is the unit's own findings
    unless `subunits=true`.

    Service centres read the whole ranking too, not only their own line: the ranking is published in the
    assessment (结果运用), so hiding the other lines would hide nothing. The public may not read it (403)."""
    cards = scorecard.ranking(uow(), current_actor(), args["start"], args["end"], subunits=bool(args["subunits"]))
    if args["format"] == "csv":
        return _csv(scorecard.csv_rows(cards), f"scorecards-{args['start']}-{args['end']}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(f"scorecards-{args['start']}-{args['end']}.xlsx", "考核排名", sheets.SCORECARD_COLUMNS,
                             sheets.scorecard_rows(cards, uow().calendar.zone))
    return [_card(card) for card in cards]


def _require_scorecard_reader() -> None:
    # The engine hides a unit the caller cannot see (404); a caller who can see no unit at all is refused.
    actor = current_actor()
    if policy.visible_units(uow(), actor) == frozenset():
        raise NotAllowed(f"{actor.name} may not read scorecards")


def _card(card: scorecard.Scorecard) -> dict:
    data = card.as_dict()
    data["start"], data["end"] = card.start, card.end
    return data


# --- sanctions -----------------------------------------------------------------------------------------------

@sanctions.route("", methods=["GET"])
@sanctions.arguments(SanctionQuerySchema, location="query")
@sanctions.response(200, SanctionPageSchema)
@sanctions.alt_response(200, **CSV_RESPONSE)
@sanctions.alt_response(200, **XLSX_RESPONSE)
def sanction_list(args):
    """Sanctions of the units the caller may see, newest first; `format=csv` exports every match."""
    with _unit_field():
        found = records.list_sanctions(uow(), current_actor(), unit=args.get("unit"), kind=args.get("kind"),
                                       finding_id=args.get("finding"), **_days(args))
    if args["format"] == "csv":
        return _csv(records.sanction_rows(uow(), found), "sanctions.csv")
    if args["format"] == "xlsx":
        return xlsx_response("sanctions.xlsx", "追责问责", sheets.SANCTION_COLUMNS, sheets.sanction_rows(uow(), found))
    codes = queries.unit_codes(uow())
    return _page(found, args, lambda s: _sanction(s, codes), ".sanction_list")


@sanctions.route("", methods=["POST"])
@idempotent
@sanctions.arguments(SanctionInputSchema)
@sanctions.response(201, SanctionSchema, headers=LOCATION)
@sanctions.doc(parameters=[KEY_PARAMETER])
def sanction_record(args):
    """Record one decision holding a unit to account for several of its findings (leader or administrator,
    as the workflow's `sanction` event allows); the fields are those of that event."""
    decision = records.SanctionDecision(kind=args["kind"], finding_ids=tuple(args["findings"]),
                                        decision=args["decision"], points=args["points"], amount=args["amount"],
                                        contract=args["contract"])
    try:
        sanction = records.record_sanction(uow(), current_actor(), decision)
    except NotFound as exc:  # a finding named in the body: the body is at fault, not the URL
        raise InvalidFields({"findings": str(exc)}) from None
    location = url_for(".sanction", record_id=sanction.id)
    return _sanction(sanction, queries.unit_codes(uow())), {"Location": location}


@sanctions.route(f"/{RECORD_ID}", methods=["GET"])
@sanctions.response(200, SanctionSchema)
def sanction(record_id):
    """One sanction of a unit the caller may see."""
    return _sanction(queries.get_record(uow(), current_actor(), Sanction, record_id), queries.unit_codes(uow()))


def _sanction(s: Sanction, codes: dict[int, str]) -> dict:
    return {"id": s.id, "unit": codes[s.unit_id], "kind": s.kind, "points": s.points, "amount": s.amount,
            "contract": s.contract, "decision": s.decision, "findings": sorted(f.finding_id for f in s.findings),
            "decided_by": s.decided_by, "decided_at": s.decided_at}


# --- commendations -------------------------------------------------------------------------------------------

@commendations.route("", methods=["GET"])
@commendations.arguments(CommendationQuerySchema, location="query")
@commendations.response(200, CommendationPageSchema)
def commendation_list(args):
    """Commendations of the units the caller may see, newest first."""
    with _unit_field():
        found = records.list_commendations(uow(), current_actor(), unit=args.get("unit"), **_days(args))
    codes = queries.unit_codes(uow())
    return _page(found, args, lambda c: _commendation(c, codes), ".commendation_list")


@commendations.route("", methods=["POST"])
@idempotent
@commendations.arguments(CommendationInputSchema)
@commendations.response(201, CommendationSchema, headers=LOCATION)
@commendations.doc(parameters=[KEY_PARAMETER])
def commendation_record(args):
    """Record good practice for a unit; the roles allowed are the workflow's `rules.commendation.roles`."""
    item = records.CommendationInput(unit=args["unit"], location=args["location"], text=args["text"],
                                     points=args["points"], attachment_ids=tuple(args["attachment_ids"]))
    commendation = records.record_commendation(uow(), current_actor(), item)
    location = url_for(".commendation", record_id=commendation.id)
    return _commendation(commendation, queries.unit_codes(uow())), {"Location": location}


@commendations.route(f"/{RECORD_ID}", methods=["GET"])
@commendations.response(200, CommendationSchema)
def commendation(record_id):
    """One commendation of a unit the caller may see."""
    found = queries.get_record(uow(), current_actor(), Commendation, record_id)
    return _commendation(found, queries.unit_codes(uow()))


def _commendation(c: Commendation, codes: dict[int, str]) -> dict:
    return {"id": c.id, "unit": codes[c.unit_id], "location": c.location, "text": c.text, "points": c.points,
            "attachment_ids": list(c.attachment_ids or []), "recorded_by": c.recorded_by, "at": c.at}


# --- notifications -------------------------------------------------------------------------------------------

@notifications.route("", methods=["GET"])
@notifications.arguments(NotificationQuerySchema, location="query")
@notifications.response(200, NotificationSchema(many=True))
def notification_list(args):
    """Reminders and missed deadlines for the units the caller may see (a centre: its own and those below),
    newest first."""
    since = to_utc(args.get("since"))
    with _unit_field():
        found = timers.list_notifications(uow(), current_actor(), args.get("unit"), since, limit=args["limit"])
    codes = queries.unit_codes(uow())
    return [_notification(n, codes) for n in found]


def _notification(n: Notification, codes: dict[int, str]) -> dict:
    return {"id": n.id, "unit": codes[n.unit_id], "finding_id": n.finding_id, "kind": n.kind, "state": n.state,
            "message": {"zh": n.message_zh, "en": n.message_en}, "due_at": n.due_at, "created_at": n.created_at}


# --- shared --------------------------------------------------------------------------------------------------

@contextmanager
def _unit_field():
    """An unknown unit named in the query is a bad parameter (422 naming it), not a missing resource."""
    try:
        yield
    except NotFound as exc:
        if exc.what != "unit":
            raise
        raise InvalidFields({"unit": f"no unit with code {exc.key!r}"}) from None


def _days(args: dict) -> dict:
    """`from`/`to` campus days as the engine's [since, until) in UTC; `to` includes its whole day."""
    start, end = args.get("start"), args.get("end")
    if start and end and end < start:
        raise InvalidFields({"to": "the period ends before it starts"})
    return {"since": to_utc(start), "until": to_utc(end + timedelta(days=1)) if end else None}


def _page(items: list, args: dict, show, endpoint: str) -> dict:
    # The engine lists every match (newest first); a page is a slice of it, `next` the URL of the following one.
    size = min(args["per_page"], queries.MAX_PER_PAGE)
    first = (args["page"] - 1) * size
    following = None
    if len(items) > first + size:
        following = url_for(endpoint, **{**request.args.to_dict(), "page": args["page"] + 1})
    return {"items": [show(item) for item in items[first:first + size]], "next": following}


def _csv(rows: list[list], filename: str) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # lets Excel recognise UTF-8 and show the Chinese text
    csv.writer(buffer).writerows([[_cell(value) for value in row] for row in rows])
    return Response(buffer.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    # A cell starting like a formula would run in a spreadsheet; a leading quote keeps it text.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value
