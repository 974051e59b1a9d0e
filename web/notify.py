"""Notifications delivered: the outbox for administrators, and who was told what about a finding."""
from __future__ import annotations

from engine import queries
from engine.actors import Actor
from engine.notify import history
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas_notify import OutboxMessageSchema, OutboxQuerySchema

outbox = Blueprint("outbox", __name__, url_prefix="/api/v1/notifications/outbox",
                   description="Messages queued, sent and dead (administrators)")
finding_notifications = Blueprint("finding_notifications", __name__, url_prefix="/api/v1/findings",
                                  description="Who was told what about a finding, and when")
BLUEPRINTS = (outbox, finding_notifications)
for _blp in BLUEPRINTS:
    _blp.before_request(authenticate)
MESSAGE_ID = "<int(max=2147483647):outbox_id>"


@outbox.route("", methods=["GET"])
@outbox.arguments(OutboxQuerySchema, location="query")
@outbox.response(200, OutboxMessageSchema(many=True))
def outbox_list(args):
    """Messages of the outbox, newest first (`status=dead` lists the dead letters); administrators only."""
    found = history.list_outbox(uow(), current_actor(), args.get("status"), limit=args["limit"],
                                before_id=args.get("before"))
    codes = queries.unit_codes(uow())
    return [_told(t, current_actor(), codes) for t in found]


@outbox.route(f"/{MESSAGE_ID}/retry", methods=["POST"])
@idempotent
@outbox.response(200, OutboxMessageSchema)
@outbox.doc(parameters=[KEY_PARAMETER])
def outbox_retry(outbox_id):
    """Give a dead message a fresh set of attempts, due now; administrators only (a sent one is refused)."""
    row = history.retry(uow(), current_actor(), outbox_id)
    return _told(history.Told(row, []), current_actor(), queries.unit_codes(uow()))


@finding_notifications.route("/<int(max=2147483647):finding_id>/notifications", methods=["GET"])
@finding_notifications.response(200, OutboxMessageSchema(many=True))
def finding_history(finding_id):
    """Who was told what about the finding and when, with each delivery attempt, oldest first; for anyone who
    may see the finding. Addresses are shown to administrators only, and a public reporter is never named."""
    found, codes = history.finding_history(uow(), current_actor(), finding_id), queries.unit_codes(uow())
    return [_told(t, current_actor(), codes) for t in found]


def _told(told: history.Told, actor: Actor, codes: dict[int, str]) -> dict:
    m, admin = told.message, any(r in history.OUTBOX_READERS for r in actor.roles)
    return {"id": m.id, "message_id": m.message_id, "kind": m.kind, "essential": m.essential, "status": m.status,
            "finding_id": m.finding_id, "unit": codes.get(m.unit_id),
            "recipient": m.recipient if admin or m.kind != "receipt" else "reporter", "channel": m.channel,
            "address": m.address if admin else None, "subject": m.subject, "body": m.body, "attempts": m.attempts,
            "created_at": m.created_at, "sent_at": m.sent_at,
            "next_attempt_at": m.next_attempt_at if m.status == "pending" else None, "last_error": m.last_error,
            "deliveries": [{"at": a.at, "channel": a.channel, "outcome": a.outcome, "response_code": a.response_code,
                            "error": a.error} for a in told.attempts]}
