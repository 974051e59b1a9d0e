"""Place use cases: create, change, deactivate, read and list places (administrators write, everyone reads)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engine import audit
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed
from engine.models import Place, Unit
from engine.places import tree
from engine.places.config import current_config
from engine.queries import like_pattern
from engine.unit_of_work import UnitOfWork
from workflows.places import TIERS, PlaceConfig

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
WRITERS = ("admin",)
UNSET = object()


@dataclass(frozen=True)
class PlaceInput:
    """A place as an administrator or an imported row describes it; unit and parent are codes."""

    code: str
    name_zh: str
    kind: str
    parent: str | None = None
    unit: str | None = None
    name_en: str | None = None
    active: bool = True


@dataclass(frozen=True)
class PlaceView:
    place: Place
    parent_code: str | None
    unit: Unit | None
    full_name: str
    config: PlaceConfig


def require_writer(actor: Actor) -> None:
    if not any(r in WRITERS for r in actor.roles):
        raise NotAllowed(f"{actor.name} may not change places; it needs one of: {', '.join(WRITERS)}", WRITERS)


def tier_problem(config: PlaceConfig, kind: str, parent_kind: str | None) -> str | None:
    """Why a place of `kind` cannot sit under one of `parent_kind` (the tree runs campus → ... → point)."""
    if parent_kind is None:
        return None
    child, parent = config.kinds[kind].depth, tree.tier_depth(config, parent_kind)
    if child > parent or child == parent == len(TIERS) - 1:
        return None
    return (f"{config.kinds[kind].label.zh}（{config.kinds[kind].tier}）不能位于"
            f"{config.label_of(parent_kind).zh if config.label_of(parent_kind) else parent_kind}之下")


def create_place(uow: UnitOfWork, actor: Actor, data: PlaceInput, *, now: datetime | None = None) -> Place:
    """Add a place; its unit defaults to its parent's."""
    require_writer(actor)
    session, config, now = uow.session, current_config(uow), now or utcnow()
    problems = {}
    if not CODE.match(data.code or ""):
        problems["code"] = "letters, digits, '.', '_' or '-', at most 64, starting with a letter or digit"
    elif session.scalar(sa.select(Place.id).where(Place.code == data.code)) is not None:
        problems["code"] = f"place {data.code!r} exists already"
    if not (data.name_zh or "").strip():
        problems["name_zh"] = "required"
    kind = config.kind_named(data.kind or "")
    if kind is None:
        problems["kind"] = f"unknown kind {data.kind!r}; configured: {', '.join(config.kinds)}"
    if problems:
        raise InvalidFields(problems)
    parent = tree.by_code(session, data.parent, field="parent") if data.parent else None
    problem = tier_problem(config, kind, parent.kind if parent else None)
    if problem:
        raise InvalidFields({"parent": problem})
    unit_id = _unit_id(uow, data.unit) if data.unit else (parent.unit_id if parent else None)
    place = Place(code=data.code, name_zh=data.name_zh.strip(), name_en=data.name_en, kind=kind,
                  parent_id=parent.id if parent else None, unit_id=unit_id, active=data.active, path="/",
                  created_at=now, updated_at=now)
    session.add(place)
    session.flush()
    tree.set_path(place, parent)
    audit.record_row(session, "create", actor, place, at=now)
    return place


def update_place(uow: UnitOfWork, actor: Actor, code: str, *, name_zh=UNSET, name_en=UNSET, kind=UNSET,
                 parent=UNSET, unit=UNSET, active=UNSET, now: datetime | None = None) -> Place:
    """Change what is given; moving a place moves everything below it."""
    require_writer(actor)
    session, config = uow.session, current_config(uow)
    place = tree.by_code(session, code)
    if name_zh is not UNSET:
        if not (name_zh or "").strip():
            raise InvalidFields({"name_zh": "required"})
        place.name_zh = name_zh.strip()
    if name_en is not UNSET:
        place.name_en = name_en
    if kind is not UNSET:
        resolved = config.kind_named(kind or "")
        if resolved is None:
            raise InvalidFields({"kind": f"unknown kind {kind!r}; configured: {', '.join(config.kinds)}"})
        place.kind = resolved
    if parent is not UNSET:
        new_parent = tree.by_code(session, parent, field="parent") if parent else None
        if new_parent is not None and new_parent.path.startswith(place.path):
            raise InvalidFields({"parent": f"{parent!r} lies below {code!r}; a place cannot be its own ancestor"})
        if new_parent is not None and new_parent.id != place.parent_id or new_parent is None and place.parent_id:
            place.parent_id = new_parent.id if new_parent else None
            tree.move_subtree(session, place, new_parent)
    if kind is not UNSET or parent is not UNSET:
        parent_row = session.get(Place, place.parent_id) if place.parent_id else None
        problem = tier_problem(config, place.kind, parent_row.kind if parent_row else None)
        if problem:
            raise InvalidFields({"parent" if parent is not UNSET else "kind": problem})
    if unit is not UNSET:
        place.unit_id = _unit_id(uow, unit) if unit else None
    now = now or utcnow()
    below = []
    if active is not UNSET:
        if active:
            place.active = True
        else:
            below = [p for p in _deactivate(uow, place, now) if p.id != place.id]
    place.updated_at = now
    session.flush()
    audit.record_row(session, "update", actor, place, at=now)
    for other in below:
        audit.record_row(session, "deactivate", actor, other, extra={"with": place.code}, at=now)
    return place


def deactivate_place(uow: UnitOfWork, actor: Actor, code: str, *, now: datetime | None = None) -> int:
    """Deactivate a place and every place below it (findings keep pointing at them); returns how many."""
    require_writer(actor)
    place, now = tree.by_code(uow.session, code), now or utcnow()
    changed = _deactivate(uow, place, now)
    for row in changed:
        extra = {"with": place.code} if row.id != place.id else None
        audit.record_row(uow.session, "deactivate", actor, row, extra=extra, at=now)
    return len(changed)


def _deactivate(uow: UnitOfWork, place: Place, now: datetime) -> list[Place]:
    """Deactivate the place and its active descendants; returns the places it changed."""
    changed = list(uow.session.scalars(sa.select(Place).where(tree.in_subtree(place), Place.active.is_(True))
                                       .order_by(Place.path)))
    for row in changed:
        row.active, row.updated_at = False, now
    place.active = False
    return changed


def _unit_id(uow: UnitOfWork, code: str) -> int:
    unit_id = uow.session.scalar(sa.select(Unit.id).where(Unit.code == code))
    if unit_id is None:
        raise InvalidFields({"unit": f"no unit with code {code!r}"})
    return unit_id


def get_place(uow: UnitOfWork, code: str) -> PlaceView:
    session, config = uow.session, current_config(uow)
    place = tree.by_code(session, code)
    parent_code = session.scalar(sa.select(Place.code).where(Place.id == place.parent_id)) if place.parent_id else None
    return PlaceView(place, parent_code, place.unit, tree.full_name(session, config, place), config)


@dataclass(frozen=True)
class PlaceFilters:
    kind: str | None = None
    unit: str | None = None  # unit code: that unit's places
    parent: str | None = None  # place code: the places below it (all levels)
    q: str | None = None  # part of the code or a name
    active: bool | None = None


def list_places(uow: UnitOfWork, filters: PlaceFilters) -> list[tuple[Place, str | None, str | None]]:
    """(place, parent code, unit code) for each matching place, in tree order."""
    session = uow.session
    parent = sa.orm.aliased(Place)
    query = (sa.select(Place, parent.code, Unit.code).outerjoin(parent, Place.parent_id == parent.id)
             .outerjoin(Unit, Place.unit_id == Unit.id))
    if filters.kind:
        query = query.where(Place.kind == (current_config(uow).kind_named(filters.kind) or filters.kind))
    if filters.unit:
        query = query.where(Unit.code == filters.unit)
    if filters.parent:
        root = tree.by_code(session, filters.parent, field="parent")
        query = query.where(tree.in_subtree(root), Place.id != root.id)
    if filters.q:
        pattern = like_pattern(filters.q)
        query = query.where(sa.or_(Place.code.ilike(pattern, escape="\\"), Place.name_zh.like(pattern, escape="\\"),
                                   Place.name_en.ilike(pattern, escape="\\")))
    if filters.active is not None:
        query = query.where(Place.active.is_(filters.active))
    return [tuple(row) for row in session.execute(query.order_by(Place.path))]
