"""Where a new finding was found: its place (the unit answering for it by default) and the round it came from."""
from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from engine.actors import Actor
from engine.errors import InvalidFields
from engine.models import Unit
from engine.places import tree
from engine.places.config import current_config
from engine.unit_of_work import UnitOfWork

SOURCE_OF_LEVEL = {"department": "department", "centre": "self_inspection"}
FOUND_BY_SOURCE = {"department": "department", "self_inspection": "centre", "public": "public"}


@dataclass(frozen=True)
class Origin:
    """What report_finding stores beside the report: the place, the round and who found it."""

    place_id: int | None
    round_id: int | None
    found_by: str


def resolve(uow: UnitOfWork, actor: Actor, report) -> tuple[object, Origin]:
    """The report completed from its place and round, and its origin.

    A place's unit answers for a finding reported there unless the report names another unit (hot water in a
    dormitory is the energy centre's); a public report always goes to the place's unit. Without a location
    the place's full name is the location. A round gives the source (centre rounds are self-inspection)."""
    session, place, found_round, changes = uow.session, None, None, {}
    if report.place:
        place = tree.by_code(session, report.place, field="place")
        if not place.active:
            raise InvalidFields({"place": f"place {place.code!r} is deactivated"})
        place_unit = session.scalar(sa.select(Unit.code).where(Unit.id == place.unit_id)) if place.unit_id else None
        if not report.unit or (report.source == "public" and place_unit):
            if place_unit is None:
                raise InvalidFields({"unit": f"place {place.code!r} has no responsible unit; name one"})
            changes["unit"] = place_unit
        if not (report.location or "").strip():
            changes["location"] = tree.full_name(session, current_config(uow), place)[:300]
    if report.round is not None:
        from engine import rounds  # rounds imports services, which imports this module

        found_round = rounds.load_round(uow, actor, report.round)
        if found_round.state != "in_progress":
            raise InvalidFields({"round": f"round {found_round.id} is {found_round.state}, not in progress"})
        rounds.require_round_role(uow, current_config(uow), actor, found_round.level, "check", found_round.unit_id)
        source = SOURCE_OF_LEVEL[found_round.level]
        if report.source not in (None, source):
            raise InvalidFields({"source": f"a finding of a {found_round.level} round has source {source!r}"})
        changes["source"] = source
        changes["inspection_round"] = report.inspection_round or found_round.name[:100]
    elif report.source is None:
        changes["source"] = "department"
    report = replace(report, **changes)
    found_by = found_round.level if found_round else FOUND_BY_SOURCE.get(report.source, "other")
    return report, Origin(place.id if place else None, found_round.id if found_round else None, found_by)
