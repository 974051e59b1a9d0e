"""/places: the place registry (tree or filtered list, one place), changed by administrators."""
from __future__ import annotations

from flask import url_for

from engine.places import registry
from engine.places.config import current_config
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas_places import (
    DeactivatedSchema,
    PlaceInputSchema,
    PlacePatchSchema,
    PlaceQuerySchema,
    PlaceSchema,
)

blp = Blueprint("places", __name__, url_prefix="/api/v1/places", description="Places on campus (场所)")
blp.before_request(authenticate)
CODE = "<string(maxlength=64):code>"


def _item(place, parent_code, unit_code, config) -> dict:
    kind = config.kinds.get(place.kind)
    return {"code": place.code, "name_zh": place.name_zh, "name_en": place.name_en, "kind": place.kind,
            "kind_label": kind.label.as_dict() if kind else None, "tier": kind.tier if kind else None,
            "parent": parent_code, "unit": unit_code, "active": place.active}


def _detail(view: registry.PlaceView) -> dict:
    kind = view.config.kinds.get(view.place.kind)
    periods = [{"name": p.name, "label": p.label.as_dict(),
                "hours": {day: _hours(span) for day, span in p.spans.items()}}
               for p in (kind.periods.values() if kind else ())]
    return {**_item(view.place, view.parent_code, view.unit.code if view.unit else None, view.config),
            "full_name": view.full_name, "periods": periods}


def _hours(span) -> str | None:
    if span is None:
        return None
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}-{end % 1440 // 60 if end != 1440 else 24:02d}:{end % 60:02d}"


@blp.route("", methods=["GET"])
@blp.arguments(PlaceQuerySchema, location="query")
@blp.response(200, PlaceSchema(many=True))
def index(args):
    """Places in tree order, filtered; `tree=true` nests each place's `children` under it instead."""
    nested = args.pop("tree")
    config = current_config(uow())
    rows = [_item(p, parent, unit, config) for p, parent, unit in
            registry.list_places(uow(), registry.PlaceFilters(**args))]
    if not nested:
        return rows
    by_code, roots = {r["code"]: {**r, "children": []} for r in rows}, []
    for row in by_code.values():
        parent = by_code.get(row["parent"])
        (parent["children"] if parent else roots).append(row)
    return roots


@blp.route(f"/{CODE}", methods=["GET"])
@blp.response(200, PlaceSchema)
def place(code):
    """One place with its full name and its kind's service periods."""
    return _detail(registry.get_place(uow(), code))


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(PlaceInputSchema)
@blp.response(201, PlaceSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(parameters=[KEY_PARAMETER])
def create(args):
    """Add a place (administrators)."""
    created = registry.create_place(uow(), current_actor(), registry.PlaceInput(**args))
    return _detail(registry.get_place(uow(), created.code)), {"Location": url_for(".place", code=created.code)}


@blp.route(f"/{CODE}", methods=["PATCH"])
@idempotent
@blp.arguments(PlacePatchSchema)
@blp.response(200, PlaceSchema)
@blp.doc(parameters=[KEY_PARAMETER])
def change(args, code):
    """Change a place (administrators); `active: false` deactivates it and everything below it."""
    registry.update_place(uow(), current_actor(), code, **args)
    return _detail(registry.get_place(uow(), code))


@blp.route(f"/{CODE}/deactivate", methods=["POST"])
@idempotent
@blp.response(200, DeactivatedSchema)
@blp.doc(parameters=[KEY_PARAMETER])
def deactivate(code):
    """Deactivate a place and everything below it (administrators); places are never deleted."""
    return {"code": code, "deactivated": registry.deactivate_place(uow(), current_actor(), code)}
