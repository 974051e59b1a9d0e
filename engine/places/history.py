"""What happened at a place: the latest checks and findings there (and below it), as far as the actor may see."""
from __future__ import annotations

import sqlalchemy as sa

from engine import policy, rounds
from engine.actors import Actor
from engine.models import Check, Finding, InspectionRound, Place
from engine.places import tree
from engine.unit_of_work import UnitOfWork

RECENT = 20


def recent_checks(uow: UnitOfWork, actor: Actor, place: Place, *, limit: int = RECENT) -> list[tuple]:
    """(check, place code, round name) at the place or below it, newest first, of rounds the actor may see."""
    query = (sa.select(Check, Place.code, InspectionRound.name).join(Place, Check.place_id == Place.id)
             .join(InspectionRound, Check.round_id == InspectionRound.id).where(tree.in_subtree(place)))
    condition = rounds.visible(uow, actor)
    if condition is not None:
        query = query.where(condition)
    return [tuple(r) for r in uow.session.execute(query.order_by(Check.at.desc(), Check.id.desc()).limit(limit))]


def recent_findings(uow: UnitOfWork, actor: Actor, place: Place, *, limit: int = RECENT) -> list[Finding]:
    """Findings reported at the place or below it that the actor may see, newest first."""
    query = (sa.select(Finding).join(Place, Finding.place_id == Place.id)
             .where(tree.in_subtree(place), policy.visible(uow, actor)))
    return list(uow.session.scalars(query.order_by(Finding.id.desc()).limit(limit)))
