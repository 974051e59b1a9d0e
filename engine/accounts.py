"""People's accounts: password sign-in with lockout, password changes, and administrators managing users."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine import admin, users
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import Unit, User
from engine.unit_of_work import UnitOfWork

MAX_FAILURES = 5  # failed sign-ins in a row before the account is locked
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8
ADMINS = ("admin",)
_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password sign-in; the caller commits either way (failures count)."""

    user: User | None
    locked_until: datetime | None = None


def sign_in(uow: UnitOfWork, name: str, password: str, *, now: datetime | None = None) -> SignIn:
    """Check a name and password; count failures, lock the account for LOCKOUT after MAX_FAILURES."""
    now = now or utcnow()
    user = uow.session.scalars(sa.select(User).where(User.name == (name or "").strip())).first()
    if user is None or not user.password_hash or not user.active:
        _verify(_DUMMY_HASH, password)
        return SignIn(None)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
            return SignIn(None, user.locked_until)
        return SignIn(None)
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


def session_user(uow: UnitOfWork, user_id: int) -> User | None:
    """The signed-in user behind a page session, or None once disabled or gone."""
    user = uow.session.get(User, user_id)
    return user if user is not None and user.active else None


def password_stamp(user: User) -> str:
    """Changes whenever the password does: a session carrying an older stamp is signed out."""
    return (user.password_hash or "")[-16:]


def change_password(uow: UnitOfWork, user_id: int, old: str, new: str) -> User:
    """A user changes their own password, proving the old one."""
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not user.password_hash or not _verify(user.password_hash, old):
        raise InvalidFields({"old": "the current password is wrong"})
    _set(user, new, field="new")
    return user


def set_password(uow: UnitOfWork, actor: Actor | None, name: str, password: str) -> User:
    """An administrator (or the operator at the command line, actor None) sets a user's password; unlocks it."""
    if actor is not None:
        _require_admin(actor, "reset passwords")
    user = _user(uow, name)
    _set(user, password, field="password")
    return user


def _set(user: User, password: str, *, field: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidFields({field: f"at least {MIN_PASSWORD} characters"})
    if len(password) > 200:
        raise InvalidFields({field: "at most 200 characters"})
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None


# --- administrators managing people ---------------------------------------------------------------------------

def _require_admin(actor: Actor, doing: str) -> None:
    if not set(ADMINS) & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not {doing}; it needs one of: {', '.join(ADMINS)}", ADMINS)


def _user(uow: UnitOfWork, name: str) -> User:
    user = uow.session.scalars(sa.select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound("user", name)
    return user


def list_users(uow: UnitOfWork, actor: Actor) -> list[User]:
    _require_admin(actor, "manage users")
    return list(uow.session.scalars(sa.select(User).order_by(User.name)))


def create_person(uow: UnitOfWork, actor: Actor, name: str, roles: list[str], *, unit: str | None,
                  display_name: str | None, password: str) -> User:
    """An administrator adds a person who signs in with a password (an API token is made too, and not shown)."""
    _require_admin(actor, "create users")
    user, _token = admin.create_user(uow, name, roles, unit=unit or None, display_name=display_name or None)
    _set(user, password, field="password")
    return user


def update_user(uow: UnitOfWork, actor: Actor, name: str, *, roles: list[str], unit: str | None,
                active: bool) -> User:
    """Change a user's roles, unit and whether it may sign in (pages and API alike)."""
    _require_admin(actor, "change users")
    user = _user(uow, name)
    if not roles:
        raise InvalidFields({"role": "at least one role"})
    unknown = sorted(set(roles) - admin.known_roles(uow))
    if unknown:
        raise InvalidFields({"role": f"unknown role(s) {unknown}"})
    unit_id = None
    if unit:
        unit_id = uow.session.scalar(sa.select(Unit.id).where(Unit.code == unit))
        if unit_id is None:
            raise InvalidFields({"unit": f"no unit with code {unit!r}"})
    if user.id == actor.user_id and (not active or not set(ADMINS) & set(roles)):
        raise InvalidFields({"active": "you cannot disable yourself or drop your own administrator role"})
    user.roles, user.unit_id, user.active = list(roles), unit_id, bool(active)
    users.forget_principal(uow, user)
    return user
