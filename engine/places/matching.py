"""Recurrence by the place tree: two findings are at the same place, floor, building or area."""
from __future__ import annotations

import sqlalchemy as sa

from engine.models import Finding, Place
from engine.places import tree
from engine.places.config import current_config
from engine.unit_of_work import UnitOfWork


def same_place_in_tree(uow: UnitOfWork, place_id: int, same: str) -> sa.ColumnElement[bool]:
    """SQL condition on Finding: its place lies in the same `same` (place | floor | building | area) as place_id.

    `location` means the same place. A place with no ancestor of the tier asked for compares at the nearest
    one above it (a point in an outdoor area with no building compares at the area)."""
    session = uow.session
    place = session.get(Place, place_id)
    level = "place" if same == "location" else same
    if level == "place":
        return Finding.place_id == place_id
    root = tree.anchor(session, current_config(uow), place, level)
    return Finding.place_id.in_(sa.select(Place.id).where(tree.in_subtree(root)).scalar_subquery())
