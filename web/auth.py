"""Bearer-token authentication: the token names a user, the user becomes the acting Actor."""
from __future__ import annotations

from flask import g, request

from engine import users
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidToken
from web.context import reading, store
from web.errors import problem


def authenticate():
    """Blueprint before_request hook: 401 unless the request carries a valid token (read before the body)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return problem(401, "send Authorization: Bearer <token>", title="Authentication required",
                       kind="unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="xuncha"'})
    now = utcnow()
    try:
        with reading() as unit:
            known = users.principal(unit, token, now)
            g.actor = known.actor
            stale = known.actor.user_id if users.use_is_stale(known, now) else None
    except InvalidToken as exc:
        return problem(401, str(exc), title="Invalid token", kind="invalid-token",
                       headers={"WWW-Authenticate": 'Bearer realm="xuncha", error="invalid_token"'})
    if stale is not None:  # at most once a minute per token: a short write of its own, before the use case
        with store().uow() as unit:
            users.record_use(unit, stale, now)
            unit.commit()
        known.used_at = now
    return None


def current_actor() -> Actor:
    return g.actor
