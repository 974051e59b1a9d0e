"""The place tree: lookups by code, materialised paths, subtrees, and the tier a recurrence rule compares at."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from engine.errors import InvalidFields, NotFound
from engine.models import Place
from workflows.places import TIERS, PlaceConfig

SAME = ("place", "floor", "building", "area")  # recurrence rules' `same:` values that compare by the tree


def by_code(session: orm.Session, code: str, *, field: str | None = None) -> Place:
    """The place with `code`; NotFound, or InvalidFields naming `field` when the code came in a request body."""
    place = session.scalar(sa.select(Place).where(Place.code == code))
    if place is None:
        if field:
            raise InvalidFields({field: f"no place with code {code!r}"})
        raise NotFound("place", code)
    return place


def path_ids(place: Place) -> list[int]:
    return [int(i) for i in place.path.strip("/").split("/") if i]


def in_subtree(root: Place, path_column=Place.path) -> sa.ColumnElement[bool]:
    """SQL: the place is `root` or lies below it."""
    return path_column.startswith(root.path, autoescape=False)


def segment(place_id: int) -> str:
    # Zero-padded, so ordering by path lists a subtree in tree order with siblings in the order they were added.
    return f"{place_id:010d}/"


def set_path(place: Place, parent: Place | None) -> None:
    place.path = f"{parent.path if parent else '/'}{segment(place.id)}"


def move_subtree(session: orm.Session, place: Place, parent: Place | None) -> None:
    """Re-root a place and everything below it under `parent` (paths of the whole subtree follow)."""
    old = place.path
    set_path(place, parent)
    session.execute(sa.update(Place).where(Place.path.startswith(old), Place.id != place.id)
                    .values(path=sa.literal(place.path) + sa.func.substr(Place.path, len(old) + 1))
                    .execution_options(synchronize_session="fetch"))


def tier_depth(config: PlaceConfig, kind: str) -> int:
    return config.kinds[kind].depth if kind in config.kinds else len(TIERS) - 1


def anchor(session: orm.Session, config: PlaceConfig, place: Place, same: str) -> Place:
    """The place a rule compares at: the place itself for `place`, else its nearest ancestor-or-self whose tier
    is `same` or above (a point in an outdoor area with no building compares at the area for `building`)."""
    if same not in ("floor", "building", "area"):
        return place
    limit = TIERS.index(same)
    chain = {p.id: p for p in session.scalars(sa.select(Place).where(Place.id.in_(path_ids(place))))}
    for place_id in reversed(path_ids(place)):
        candidate = chain.get(place_id)
        if candidate is not None and tier_depth(config, candidate.kind) <= limit:
            return candidate
    return chain.get(path_ids(place)[0], place)


def full_name(session: orm.Session, config: PlaceConfig, place: Place) -> str:
    """The Chinese name below the campus, as Chinese addresses are written: 学生公寓9号楼3层东侧卫生间."""
    chain = {p.id: p for p in session.scalars(sa.select(Place).where(Place.id.in_(path_ids(place))))}
    names = [chain[i].name_zh for i in path_ids(place)
             if i in chain and (i == place.id or tier_depth(config, chain[i].kind) > 0)]
    return "".join(names)
