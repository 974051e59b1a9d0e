"""Bearer-token authentication: the token names a user, the user becomes the acting Actor."""
from __future__ import annotations

from flask import g, request

from engine import admin
from engine.actors import Actor, actor_for
from web.context import uow
from web.errors import problem


def authenticate():
    """Blueprint before_request hook: 401 unless the request carries a valid token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return problem(401, "send Authorization: Bearer <token>", title="Authentication required",
                       kind="unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="xuncha"'})
    user = admin.user_by_token(uow(), token)
    if user is None:
        return problem(401, "the token is unknown or its user is disabled", title="Invalid token",
                       kind="invalid-token",
                       headers={"WWW-Authenticate": 'Bearer realm="xuncha", error="invalid_token"'})
    g.actor = actor_for(uow().session, user, uow().store.directory.parents(uow().session))
    return None


def current_actor() -> Actor:
    return g.actor
