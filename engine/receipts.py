"""Receipts of submitted page forms: a form sent twice (a double click, a resend) is acted on once."""
from __future__ import annotations

import sqlalchemy as sa

from engine.db import utcnow
from engine.models import IdempotencyRecord
from engine.unit_of_work import UnitOfWork

PREFIX = "form:"  # kept apart from the API's Idempotency-Key values in the same table


def seen(uow: UnitOfWork, user_id: int, token: str) -> str | None:
    """Where the first submission of this form led, if it was acted on already."""
    location = uow.session.scalar(sa.select(IdempotencyRecord.path).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == PREFIX + token))
    return location


def remember(uow: UnitOfWork, user_id: int, token: str, location: str) -> None:
    """Record, in the same transaction as the change, that this form was acted on and where it led."""
    uow.session.add(IdempotencyRecord(user_id=user_id, key=PREFIX + token, method="FORM", path=location[:500],
                                      request_hash="", status=303, headers={"Location": location}, body="",
                                      created_at=utcnow()))
    uow.session.flush()
