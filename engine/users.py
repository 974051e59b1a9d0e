"""Users' API tokens over their life: checked on every request, expiring, disabled and enabled, rotated."""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm

from engine import audit
from engine.actors import Actor, actor_for
from engine.config import token_days
from engine.db import utcnow
from engine.errors import InvalidToken, NotFound
from engine.models import User
from engine.principals import Principal
from engine.unit_of_work import UnitOfWork

TOKEN_PREFIX = "xc_"  # noqa: S105 - a marker that makes leaked tokens easy to spot, not a secret
USE_RECORDED_EVERY = timedelta(minutes=1)  # last use is kept to the minute: one write a minute per token at most


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no salt or slow KDF needed, unlike passwords).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, now: datetime | None = None) -> str:
    """Give `user` a new token (the old one stops working) valid for XUNCHA_TOKEN_DAYS; return it."""
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user.token_hash, user.token_expires_at, user.token_used_at = hash_token(token), now + timedelta(token_days()), None
    return token


def authenticate(uow: UnitOfWork, token: str, now: datetime | None = None) -> User:
    """The user a bearer token names; InvalidToken says why it cannot act (unknown, expired, disabled)."""
    now = now or utcnow()
    user = None
    if token and token.startswith(TOKEN_PREFIX) and len(token) < 200:
        user = uow.session.scalars(sa.select(User).options(orm.joinedload(User.unit))
                                   .where(User.token_hash == hash_token(token))).first()
    if user is None:
        raise InvalidToken("the token is unknown (mistyped, or replaced by `xuncha user rotate-token`)")
    if not user.active:
        raise InvalidToken(f"user {user.name!r} is disabled; an administrator can enable it again")
    if user.token_expires_at is not None and user.token_expires_at <= now:
        raise InvalidToken(f"the token of {user.name!r} expired at {user.token_expires_at:%Y-%m-%d %H:%M} UTC; "
                           f"an administrator issues a new one with `xuncha user rotate-token {user.name}`")
    return user


def principal(uow: UnitOfWork, token: str, now: datetime | None = None) -> Principal:
    """The acting principal a bearer token names, from the store's short-lived memory when it is there (see
    engine.principals), else as `authenticate` finds it; InvalidToken says why it cannot act."""
    now = now or utcnow()
    key = hash_token(token) if token and token.startswith(TOKEN_PREFIX) and len(token) < 200 else None
    known = uow.store.principals.get(key) if key else None
    if known is None:
        user = authenticate(uow, token, now)
        known = Principal(actor_for(uow.session, user, uow.store.directory.parents(uow.session)),
                          user.token_expires_at, user.token_used_at, time.monotonic())
        uow.store.principals.put(key, known)
    elif known.expires_at is not None and known.expires_at <= now:
        raise InvalidToken(f"the token of {known.actor.name!r} expired at {known.expires_at:%Y-%m-%d %H:%M} UTC; "
                           f"an administrator issues a new one with `xuncha user rotate-token {known.actor.name}`")
    return known


def forget_principal(uow: UnitOfWork, user: User) -> None:
    """The user's token, roles, unit or standing changed: stop acting on what was remembered of it, now (so no
    request re-learns the old user before the commit) and again once the change has committed."""
    uow.store.principals.forget(user.id)
    uow.after_commit(lambda: uow.store.principals.forget(user.id))


def use_is_stale(user: User | Principal, now: datetime | None = None) -> bool:
    """Whether the recorded last use is older than USE_RECORDED_EVERY (so `record_use` would change it)."""
    used_at = user.used_at if isinstance(user, Principal) else user.token_used_at
    return used_at is None or (now or utcnow()) - used_at >= USE_RECORDED_EVERY


def record_use(uow: UnitOfWork, user_id: int, now: datetime | None = None) -> None:
    """Note that the user's token was used now; concurrent requests of the same minute write it once."""
    now = now or utcnow()
    uow.session.execute(sa.update(User).where(
        User.id == user_id, sa.or_(User.token_used_at.is_(None), User.token_used_at <= now - USE_RECORDED_EVERY))
        .values(token_used_at=now))


def list_users(uow: UnitOfWork) -> list[User]:
    """Every user with its unit, by name."""
    return list(uow.session.scalars(sa.select(User).options(orm.joinedload(User.unit)).order_by(User.name)))


def user_by_name(uow: UnitOfWork, name: str) -> User:
    user = uow.session.scalars(sa.select(User).options(orm.joinedload(User.unit)).where(User.name == name)).first()
    if user is None:
        raise NotFound("user", name)
    return user


def disable_user(uow: UnitOfWork, name: str, *, by: Actor | str = "system") -> User:
    """Refuse the user's token from now on (its findings and audit rows stay as they are)."""
    user = user_by_name(uow, name)
    user.active = False
    forget_principal(uow, user)
    audit.record_row(uow.session, "disable", by, user)
    return user


def enable_user(uow: UnitOfWork, name: str, *, by: Actor | str = "system") -> User:
    """Accept the user's token again (if it has not expired meanwhile)."""
    user = user_by_name(uow, name)
    user.active = True
    forget_principal(uow, user)
    audit.record_row(uow.session, "enable", by, user)
    return user


def rotate_token(uow: UnitOfWork, name: str, now: datetime | None = None, *, by: Actor | str = "system") -> str:
    """Replace the user's token with a new one, valid for XUNCHA_TOKEN_DAYS from now; return the new token."""
    user = user_by_name(uow, name)
    token = issue_token(user, now)
    forget_principal(uow, user)
    audit.record_row(uow.session, "rotate_token", by, user)
    return token
