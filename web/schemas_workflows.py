"""Marshmallow schemas of workflow versions, their parsed definitions and lint results."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.schemas import MAX_ID, FieldSpecSchema, LabelSchema


class WorkflowSummarySchema(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.Nested(LabelSchema, required=True)
    sha256 = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class RoleSchema(Schema):
    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    scope = fields.String(required=True, metadata={"description": "all, unit or own"})


class StateSchema(Schema):
    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    final = fields.Boolean(required=True)
    closed = fields.Boolean(required=True)
    due = fields.String(allow_none=True)
    remind_before = fields.String(allow_none=True)
    on_overdue = fields.String(allow_none=True)


class CalendarSchema(Schema):
    """A working calendar due times may be counted on; `office` is built in and not listed."""

    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    hours = fields.String(required=True, metadata={"description": "working periods, e.g. 06:00-20:00"})
    days = fields.String(required=True, metadata={"description": "workdays, all_but_holidays or all"})


class TransitionSpecSchema(Schema):
    event = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    sources = fields.List(fields.String(), required=True, data_key="from")
    dest = fields.String(required=True, data_key="to")
    roles = fields.List(fields.String(), required=True)
    field_specs = fields.List(fields.Nested(FieldSpecSchema), required=True, data_key="fields")
    guard = fields.String(allow_none=True)
    reason = fields.Nested(LabelSchema, allow_none=True)
    increment = fields.List(fields.String(), required=True)


class WorkflowDetailSchema(WorkflowSummarySchema):
    """The active (or a named) version: its YAML text and what it defines."""

    initial = fields.String(required=True)
    reporters = fields.List(fields.String(), required=True)
    yaml = fields.String(required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)
    states = fields.List(fields.Nested(StateSchema), required=True)
    transitions = fields.List(fields.Nested(TransitionSpecSchema), required=True)
    calendars = fields.List(fields.Nested(CalendarSchema), metadata={
        "description": "the named calendars of the version's file (due times may say `on NAME`)"})


class VersionSchema(Schema):
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    active = fields.Boolean(required=True)


class LineProblemSchema(Schema):
    line = fields.Integer(allow_none=True, required=True)
    message = fields.String(required=True)
    severity = fields.String(required=True, metadata={"description": "error or warning"})
    code = fields.String(required=True)


class LintResultSchema(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "true when there is no error"})
    errors = fields.Integer(required=True)
    warnings = fields.Integer(required=True)
    problems = fields.List(fields.Nested(LineProblemSchema), required=True)


class LoadedSchema(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    created = fields.Boolean(required=True, metadata={"description": "false when the definition was unchanged"})


class LoadResultSchema(Schema):
    loaded = fields.List(fields.Nested(LoadedSchema), required=True)


class DiagramQuerySchema(Schema):
    format = fields.String(load_default="mermaid", validate=validate.OneOf(["mermaid", "svg"]))
    lang = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))
    version = fields.Integer(validate=validate.Range(1, MAX_ID),
                             metadata={"description": "a stored version; default the active one"})
