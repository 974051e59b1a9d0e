"""Unit and user names by id, and the unit tree, kept per database: every request and response needs them."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from engine.models import Unit, User

TREE_TTL = 30.0  # seconds a unit tree read by this process is trusted; units made here refresh it at once


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    name_en: str | None


class Directory:
    """Units and users are created, never renamed or re-parented, so their names are cached for good.

    New units matter for reach (a centre sees the units below it): the tree is re-read after TREE_TTL, or at
    once when this process created a unit. A rename feature, should one come, must call `forget`.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._units: dict[int, UnitRef] = {}
        self._users: dict[int, str] = {}
        self._parents: dict[int, int | None] | None = None
        self._read_at = 0.0

    def unit(self, session: orm.Session, unit_id: int) -> UnitRef:
        ref = self._units.get(unit_id)
        if ref is None:
            row = session.execute(sa.select(Unit.id, Unit.code, Unit.name, Unit.name_en)
                                  .where(Unit.id == unit_id)).one()
            ref = self._units[unit_id] = UnitRef(*row)
        return ref

    def user_name(self, session: orm.Session, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        name = self._users.get(user_id)
        if name is None:
            name = self._users[user_id] = session.scalar(sa.select(User.name).where(User.id == user_id))
        return name

    def parents(self, session: orm.Session) -> dict[int, int | None]:
        """Each unit's parent (None at the top)."""
        with self._lock:
            if self._parents is None or time.monotonic() - self._read_at > TREE_TTL:
                self._parents = dict(session.execute(sa.select(Unit.id, Unit.parent_id)).all())
                self._read_at = time.monotonic()
            return self._parents

    def forget(self) -> None:
        with self._lock:
            self._parents = None
            self._units.clear()
