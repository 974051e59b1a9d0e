"""Marshmallow schemas of the outbox: messages, their delivery attempts, the administrators' query."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.notify.history import MAX_LIST
from engine.notify.models import STATUSES
from web.schemas import MAX_ID


class DeliverySchema(Schema):
    at = fields.DateTime(required=True)
    channel = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "sent or failed"})
    response_code = fields.Integer(allow_none=True, metadata={"description": "HTTP status, SMTP code or errcode"})
    error = fields.String(allow_none=True)


class OutboxMessageSchema(Schema):
    """One message to one channel and address, and every attempt to deliver it."""

    id = fields.Integer(required=True)
    message_id = fields.String(required=True, metadata={"description": "stable; webhooks and emails carry it"})
    kind = fields.String(required=True)
    essential = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(STATUSES)})
    finding_id = fields.Integer(allow_none=True)
    unit = fields.String(allow_none=True)
    recipient = fields.String(required=True)
    channel = fields.String(required=True)
    address = fields.String(allow_none=True, metadata={"description": "administrators only"})
    subject = fields.String(required=True)
    body = fields.String(required=True)
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class OutboxQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIST))
    before = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "ids below this one"})
