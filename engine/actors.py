"""Who is acting: a user's name, roles and the units within its reach."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import orm

from engine.models import Unit, User


@dataclass(frozen=True)
class Actor:
    name: str
    roles: tuple[str, ...]
    unit_id: int | None = None
    reach: frozenset[int] = field(default_factory=frozenset)  # the user's unit and every unit below it
    user_id: int | None = None

    def can_reach(self, unit_id: int) -> bool:
        return unit_id in self.reach

    def as_guard_context(self, role: str) -> dict:
        return {"name": self.name, "role": role, "roles": list(self.roles)}


SYSTEM = Actor("system", ("system",))


def unit_subtree(session: orm.Session, unit_id: int, parents: dict[int, int | None] | None = None) -> frozenset[int]:
    """The unit and every unit below it; `parents` (id -> parent id) is read from the database when not given."""
    if parents is None:
        parents = dict(session.execute(sa.select(Unit.id, Unit.parent_id)).all())
    reach, frontier = {unit_id}, [unit_id]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in reach:
                reach.add(child)
                frontier.append(child)
    return frozenset(reach)


def actor_for(session: orm.Session, user: User, parents: dict[int, int | None] | None = None) -> Actor:
    reach = unit_subtree(session, user.unit_id, parents) if user.unit_id else frozenset()
    return Actor(user.name, tuple(user.roles or ()), user.unit_id, reach, user.id)
