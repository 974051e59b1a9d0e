"""Commit a writing request, and with an Idempotency-Key replay its first answer instead of acting twice."""
from __future__ import annotations

import hashlib
from functools import wraps

import sqlalchemy as sa
from flask import Response, request

from engine.db import utcnow
from engine.models import IdempotencyRecord
from web.auth import current_actor
from web.context import uow
from web.errors import problem

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Content-Type", "ETag", "Location")


def idempotent(view):
    """Wrap a writing view: its change, and the answer kept for the key, commit in one transaction."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = view(*args, **kwargs)
            if 200 <= response.status_code < 300:
                uow().commit()
            return response
        if not key.strip() or len(key) > 200:
            return problem(422, f"{HEADER} must be 1 to 200 characters", title="Invalid request",
                           kind="invalid-request", errors={HEADER: "1 to 200 characters"})
        user_id, digest, session = current_actor().user_id, request_hash(), uow().session
        record = _record(session, user_id, key)
        if record is not None:
            return replay(record, digest)
        record = IdempotencyRecord(user_id=user_id, key=key, method=request.method, path=request.path[:500],
                                   request_hash=digest, status=0, headers={}, body="", created_at=utcnow())
        session.add(record)
        try:
            # On PostgreSQL this waits for a concurrent request holding the same key, then fails if it committed.
            session.flush()
        except sa.exc.IntegrityError:
            session.rollback()
            return replay(_record(session, user_id, key), digest)
        response = view(*args, **kwargs)
        if 200 <= response.status_code < 300:
            record.status = response.status_code
            record.headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
            record.body = response.get_data(as_text=True)
            uow().commit()
        return response

    return wrapper


def request_hash() -> str:
    """What makes a retry the same request: method, path, query, content type and body bytes."""
    digest = hashlib.sha256()
    for part in (request.method, request.full_path, request.content_type or ""):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _record(session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalars(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)).first()


def replay(record: IdempotencyRecord | None, digest: str) -> Response:
    if record is None:  # the concurrent request that held the key failed and kept nothing: retry
        return problem(409, "a request with this key was in flight and failed; send it again",
                       kind="idempotency-retry")
    if record.request_hash != digest:
        return problem(422, f"this {HEADER} was used for a different request", title="Idempotency key reused",
                       kind="idempotency-mismatch", errors={HEADER: "already used for a different request"})
    response = Response(record.body, record.status, headers=record.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


KEY_PARAMETER = {"in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 200},
                 "description": "a retry with the same key and body returns the first answer instead of acting twice"}
