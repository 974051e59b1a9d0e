"""Marshmallow schemas for the shape of a workflow file: keys, types and required entries."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from workflows.calendars import DAY_KINDS, OFFICE
from workflows.model import COUNTERS, FIELD_TYPES
from workflows.rules import RulesSchema

_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower_snake_case ASCII, starting with a letter")
# Bounds far above any real loop (the shipped one has 12 states and 25 transitions), so that one upload cannot
# make every later request that compiles, lints or shows the workflow slow.
MAX_WORKFLOWS, MAX_ROLES, MAX_STATES, MAX_TRANSITIONS, MAX_FIELDS, MAX_CHOICES = 20, 50, 100, 200, 50, 200


def _at_most(limit: int, what: str):
    return validate.Length(max=limit, error=f"at most {limit} {what}")


class LabelField(fields.Field):
    """`{zh: ..., en: ...}`, or one string used for both languages."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip():
            return {"zh": value, "en": value}
        if isinstance(value, dict):
            unknown = set(value) - {"zh", "en"}
            if unknown:
                raise ValidationError(f"unknown language(s) {sorted(unknown)}; use zh and en")
            if not all(isinstance(value.get(k), str) and value.get(k).strip() for k in ("zh", "en")):
                raise ValidationError("a label needs non-empty zh and en texts")
            return {"zh": value["zh"], "en": value["en"]}
        raise ValidationError("a label is a string or {zh: ..., en: ...}")


class StringOrList(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
            raise ValidationError("must be a state name or a non-empty list of state names")
        return list(items)


class DurationText(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        from workflows.durations import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class RoleSchema(Schema):
    label = LabelField(required=True)
    scope = fields.String(load_default="all", validate=validate.OneOf(["all", "unit", "own"]))


class StateSchema(Schema):
    label = LabelField(required=True)
    initial = fields.Boolean(load_default=False)
    final = fields.Boolean(load_default=False)
    closed = fields.Boolean(load_default=False)  # the loop is closed here (counts as rectified), yet reopenable
    due = DurationText(load_default=None)
    on_overdue = fields.String(load_default=None, validate=_NAME)
    remind_before = DurationText(load_default=None)


class FieldSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = fields.Boolean(load_default=True)
    label = LabelField(load_default=None)
    choices = fields.List(fields.Raw(), load_default=list, validate=_at_most(MAX_CHOICES, "choices"))
    min = fields.Float(load_default=None)
    max = fields.Float(load_default=None)
    max_length = fields.Integer(load_default=None, validate=validate.Range(min=1))

    @validates_schema
    def _choices_only_for_choice(self, data, **kwargs):
        if data["type"] == "choice" and not data["choices"]:
            raise ValidationError("a choice field needs a non-empty list of choices", "choices")
        if data["type"] != "choice" and data["choices"]:
            raise ValidationError("only a choice field has choices", "choices")


class TransitionSchema(Schema):
    event = fields.String(required=True, validate=_NAME)
    source = StringOrList(required=True, data_key="from")
    dest = fields.String(required=True, data_key="to")
    roles = fields.List(fields.String(), required=True)
    label = LabelField(load_default=None)
    fields_ = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(FieldSchema),
                          data_key="fields", load_default=dict, validate=_at_most(MAX_FIELDS, "fields"))
    guard = fields.String(load_default=None)
    reason = LabelField(load_default=None)
    increment = fields.List(fields.String(validate=validate.OneOf(COUNTERS)), load_default=list)


class WorkflowSchema(Schema):
    label = LabelField(required=True)
    initial = fields.String(load_default=None)
    roles = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(RoleSchema), required=True,
                        validate=_at_most(MAX_ROLES, "roles"))
    states = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(StateSchema), required=True,
                         validate=_at_most(MAX_STATES, "states"))
    transitions = fields.List(fields.Nested(TransitionSchema), required=True,
                              validate=_at_most(MAX_TRANSITIONS, "transitions"))
    reporters = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    rules = fields.Nested(RulesSchema, load_default=dict)  # recurrence and scorecard settings (workflows.rules)


class HoursText(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        from workflows.calendars import parse_hours

        if not isinstance(value, str):
            raise ValidationError("working hours are text such as '06:00-20:00' or '08:00-12:00,14:00-17:30'")
        try:
            return parse_hours(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class CalendarSchema(Schema):
    label = LabelField(required=True)
    hours = HoursText(required=True)
    days = fields.String(load_default="workdays", validate=validate.OneOf(DAY_KINDS))


class FileSchema(Schema):
    version = fields.Integer(load_default=1, validate=validate.Equal(1))
    calendars = fields.Dict(keys=fields.String(validate=[_NAME, validate.NoneOf(
        [OFFICE], error=f"{OFFICE!r} is built in: office hours (XUNCHA_WORK_HOURS) on the national calendar")]),
        values=fields.Nested(CalendarSchema), load_default=dict)
    workflows = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(WorkflowSchema),
                            required=True, validate=validate.Length(min=1, max=MAX_WORKFLOWS))
