"""Marshmallow schemas of places, inspection rounds and checks, and coverage."""
from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from engine.models import LEVELS, ROUND_STATES
from engine.rounds import RESULTS
from web.schemas import MAX_ID, LabelSchema, Moment, Text, to_utc
from web.schemas_loop import CSV_NOTE, FORMATS, Day

CODE = validate.Length(1, 64)


class PlaceInputSchema(Schema):
    """A new place; `unit` defaults to the parent's."""

    code = Text(required=True, validate=CODE, metadata={"description": "unique; letters, digits, . _ -"})
    name_zh = Text(required=True, validate=validate.Length(1, 200))
    name_en = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    kind = Text(required=True, validate=CODE, metadata={"description": "a kind of the places file (key or label)"})
    parent = Text(load_default=None, allow_none=True, validate=CODE, metadata={"description": "parent's code"})
    unit = Text(load_default=None, allow_none=True, validate=CODE, metadata={"description": "responsible unit"})
    active = fields.Boolean(load_default=True)


class PlacePatchSchema(Schema):
    """Only the fields sent change; moving a place (`parent`) moves everything below it."""

    name_zh = Text(validate=validate.Length(1, 200))
    name_en = Text(allow_none=True, validate=validate.Length(max=200))
    kind = Text(validate=CODE)
    parent = Text(allow_none=True, validate=CODE)
    unit = Text(allow_none=True, validate=CODE)
    active = fields.Boolean()


class PlaceQuerySchema(Schema):
    kind = Text(validate=CODE)
    unit = Text(validate=CODE, metadata={"description": "unit code"})
    parent = Text(validate=CODE, metadata={"description": "the places below this one, at every level"})
    q = Text(validate=validate.Length(1, 200), metadata={"description": "part of the code or a name"})
    active = fields.Boolean()
    tree = fields.Boolean(load_default=False, metadata={"description": "nest children under their parents"})


class PlaceSchema(Schema):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    full_name = fields.String(metadata={"description": "single place: the name below the campus, 学生公寓9号楼3层"})
    kind = fields.String(required=True)
    kind_label = fields.Nested(LabelSchema, allow_none=True)
    tier = fields.String(allow_none=True, metadata={"description": "campus, area, building, floor or point"})
    parent = fields.String(allow_none=True, required=True)
    unit = fields.String(allow_none=True, required=True, metadata={"description": "responsible unit's code"})
    active = fields.Boolean(required=True)
    periods = fields.List(fields.Dict(), metadata={"description": "single place: its kind's service periods"})
    children = fields.List(fields.Dict(), metadata={"description": "tree=true: the places below, nested"})


class DeactivatedSchema(Schema):
    code = fields.String(required=True)
    deactivated = fields.Integer(required=True, metadata={"description": "places deactivated (it and below)"})


class RoundInputSchema(Schema):
    """A round to plan: a list of places (each with what lies below), a subtree, or a kind; or none (any)."""

    name = Text(required=True, validate=validate.Length(1, 200))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    unit = Text(load_default=None, allow_none=True, validate=CODE,
                metadata={"description": "the centre inspecting itself (centre level)"})
    inspectors = fields.List(Text(validate=validate.Length(1, 100)), load_default=list,
                             validate=validate.Length(max=50), metadata={"description": "user names"})
    planned_start = Moment(load_default=None, allow_none=True)
    planned_end = Moment(load_default=None, allow_none=True)
    places = fields.List(Text(validate=CODE), load_default=list, validate=validate.Length(max=5000))
    subtree = Text(load_default=None, allow_none=True, validate=CODE)
    kind = Text(load_default=None, allow_none=True, validate=CODE)
    notes = Text(load_default="", validate=validate.Length(max=5000))

    @post_load
    def _times(self, data, **_):
        data["planned_start"] = to_utc(data["planned_start"])
        data["planned_end"] = to_utc(data["planned_end"], end_of_day=True)
        return data


class RoundQuerySchema(Schema):
    level = fields.String(validate=validate.OneOf(LEVELS))
    state = fields.String(validate=validate.OneOf(ROUND_STATES))
    unit = Text(validate=CODE)


class CheckInputSchema(Schema):
    place = Text(required=True, validate=CODE)
    at = Moment(load_default=None, allow_none=True, metadata={"description": "when; default now"})
    result = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RESULTS),
                           metadata={"description": "ok, or findings (default: findings if any are named)"})
    findings = fields.List(fields.Integer(validate=validate.Range(1, MAX_ID)), load_default=list,
                           validate=validate.Length(max=100),
                           metadata={"description": "ids of findings reported at this check"})
    note = Text(load_default="", validate=validate.Length(max=5000))

    @post_load
    def _time(self, data, **_):
        data["at"] = to_utc(data["at"])
        return data


class CheckSchema(Schema):
    id = fields.Integer(required=True)
    round = fields.Integer(required=True)
    place = fields.String(required=True)
    at = fields.DateTime(required=True)
    period = fields.String(allow_none=True, metadata={"description": "service period (null: outside all)"})
    day_type = fields.String(required=True, metadata={"description": "weekday, weekend or holiday"})
    service_day = fields.Date(required=True)
    level = fields.String(required=True)
    result = fields.String(required=True)
    inspector = fields.String(required=True)
    note = fields.String(required=True)
    findings = fields.List(fields.Integer())


class RoundSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True)
    unit = fields.String(allow_none=True)
    inspectors = fields.List(fields.String(), required=True)
    planned_start = fields.DateTime(allow_none=True)
    planned_end = fields.DateTime(allow_none=True)
    plan = fields.Dict(required=True)
    notes = fields.String(required=True)
    state = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    checks_count = fields.Integer(metadata={"description": "list: checks recorded"})
    checks = fields.List(fields.Nested(CheckSchema), metadata={"description": "single round"})
    findings = fields.List(fields.Dict(), metadata={"description": "single round: findings reported in it"})


class CoverageQuerySchema(Schema):
    start = Day(required=True, data_key="from", metadata={"description": "first day, YYYY-MM-DD"})
    end = Day(required=True, data_key="to", metadata={"description": "last day, YYYY-MM-DD (included)"})
    unit = Text(validate=CODE, metadata={"description": "that unit's places and those of the units below it"})
    kind = Text(validate=CODE)
    level = fields.String(validate=validate.OneOf(LEVELS))
    place = Text(validate=CODE, metadata={"description": "that place's subtree"})
    format = fields.String(load_default="json", validate=FORMATS, metadata={"description": CSV_NOTE})


class GapQuerySchema(CoverageQuerySchema):
    days = fields.Integer(validate=validate.Range(1, 3660),
                          metadata={"description": "also list places not checked in this many days (default: "
                                                   "the places file's stale_after)"})


class TargetResultSchema(Schema):
    name = fields.String(required=True)
    level = fields.String(required=True)
    per = fields.String(required=True)
    at_least = fields.Integer(required=True)
    required = fields.Integer(required=True, metadata={"description": "days/weeks/months needing checks"})
    achieved = fields.Integer(required=True)
    met = fields.Boolean(required=True)


class CoverageRowSchema(Schema):
    place = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    unit = fields.String(allow_none=True)
    period = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "checks by level"})
    last_check_at = fields.DateTime(allow_none=True)
    targets = fields.List(fields.Nested(TargetResultSchema), required=True)
    met = fields.Boolean(allow_none=True, metadata={"description": "every target met (null: no target)"})


class GapSchema(Schema):
    place = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    unit = fields.String(allow_none=True)
    period = fields.String(allow_none=True)
    reason = fields.String(required=True, metadata={"description": "below_target or not_checked"})
    target = fields.String(allow_none=True)
    required = fields.Integer(required=True)
    achieved = fields.Integer(required=True)
    missing = fields.Integer(required=True)
    last_check_at = fields.DateTime(allow_none=True)
