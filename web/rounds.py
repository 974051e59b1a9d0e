"""/rounds: inspection rounds at department and centre level, and the checks recorded in them."""
from __future__ import annotations

from flask import url_for

from engine import queries, rounds
from engine.models import Check, InspectionRound
from web import present
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas_places import CheckInputSchema, CheckSchema, RoundInputSchema, RoundQuerySchema, RoundSchema

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/rounds", description="Inspection rounds (巡查轮次)")
blp.before_request(authenticate)
ROUND_ID = "<int(max=2147483647):round_id>"
LOCATION = {"Location": {"schema": {"type": "string"}}}


def _round(row: InspectionRound, unit_code: str | None) -> dict:
    return {"id": row.id, "name": row.name, "level": row.level, "unit": unit_code, "inspectors": row.inspectors,
            "planned_start": row.planned_start, "planned_end": row.planned_end, "plan": row.plan,
            "notes": row.notes, "state": row.state, "created_by": row.created_by, "created_at": row.created_at,
            "started_at": row.started_at, "finished_at": row.finished_at}


def _check(check: Check, place_code: str, findings: list[int] = ()) -> dict:
    return {"id": check.id, "round": check.round_id, "place": place_code, "at": check.at, "period": check.period,
            "day_type": check.day_type, "service_day": check.service_day, "level": check.level,
            "result": check.result, "inspector": check.inspector, "note": check.note, "findings": list(findings)}


def _detail(view: rounds.RoundView) -> dict:
    by_check: dict[int, list[int]] = {}
    for f in view.findings:
        if f.check_id is not None:
            by_check.setdefault(f.check_id, []).append(f.id)
    actor = current_actor()
    return {**_round(view.round, view.unit_code),
            "checks": [_check(c, code, by_check.get(c.id, [])) for c, code in view.checks],
            "findings": [present.finding(queries.finding_view(uow(), f, actor, with_events=False))
                         for f in view.findings]}


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(RoundInputSchema)
@blp.response(201, RoundSchema, headers=LOCATION)
@blp.doc(parameters=[KEY_PARAMETER])
def plan(args):
    """Plan a round (roles per level from the places file; centre users for their own units)."""
    row = rounds.plan_round(uow(), current_actor(), rounds.RoundInput(
        **{**args, "inspectors": tuple(args["inspectors"]), "places": tuple(args["places"])}))
    return _detail(rounds.get_round(uow(), current_actor(), row.id)), {"Location": url_for(".one", round_id=row.id)}


@blp.route("", methods=["GET"])
@blp.arguments(RoundQuerySchema, location="query")
@blp.response(200, RoundSchema(many=True))
def index(args):
    """Rounds the caller may see, newest first (at most 200), with how many checks each has."""
    views = rounds.list_rounds(uow(), current_actor(), rounds.RoundFilters(**args))
    counts = rounds.check_counts(uow(), [v.round.id for v in views])
    return [{**_round(v.round, v.unit_code), "checks_count": counts.get(v.round.id, (0, 0))[0]} for v in views]


@blp.route(f"/{ROUND_ID}", methods=["GET"])
@blp.response(200, RoundSchema)
def one(round_id):
    """A round with its checks and the findings reported in it."""
    return _detail(rounds.get_round(uow(), current_actor(), round_id))


def _move(round_id: int, event: str) -> dict:
    rounds.move_round(uow(), current_actor(), round_id, event)
    return _detail(rounds.get_round(uow(), current_actor(), round_id))


@blp.route(f"/{ROUND_ID}/start", methods=["POST"])
@idempotent
@blp.response(200, RoundSchema)
@blp.doc(parameters=[KEY_PARAMETER])
def start(round_id):
    """planned → in_progress (its planners or inspectors)."""
    return _move(round_id, "start")


@blp.route(f"/{ROUND_ID}/finish", methods=["POST"])
@idempotent
@blp.response(200, RoundSchema)
@blp.doc(parameters=[KEY_PARAMETER])
def finish(round_id):
    """in_progress → done (its planners or inspectors)."""
    return _move(round_id, "finish")


@blp.route(f"/{ROUND_ID}/checks", methods=["POST"])
@idempotent
@blp.arguments(CheckInputSchema)
@blp.response(201, CheckSchema)
@blp.doc(parameters=[KEY_PARAMETER])
def check(args, round_id):
    """Record a check of a place in a round in progress: `ok`, or the findings reported there (their ids).

    The service period is derived from the place's kind (or its nearest ancestor's with periods) in campus time."""
    data = rounds.CheckInput(**{**args, "findings": tuple(args["findings"])})
    recorded = rounds.record_check(uow(), current_actor(), round_id, data)
    return _check(recorded, args["place"], data.findings)
