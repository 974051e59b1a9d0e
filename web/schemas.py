"""Marshmallow schemas of findings and the shapes every resource shares (problems, labels, pages, times)."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from webargs.fields import DelimitedList

from engine.models import SEVERITIES, SOURCES
from engine.queries import MAX_PER_PAGE, SORTS

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; a larger one cannot exist
SORT_CHOICES = sorted(SORTS) + [f"-{key}" for key in sorted(SORTS)]


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored: NUL (PostgreSQL refuses it) or lone surrogates (not encodable as UTF-8)."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if _SURROGATE.search(text):
        return "must be valid Unicode (a lone surrogate escape was sent)"
    return None


def json_problem(value, depth: int = 0) -> str | None:
    """The first reason a JSON value (a transition's payload) cannot be stored and hashed, or None."""
    if depth > 20:
        return "nested too deeply"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        return "a number is out of range"
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return next((p for v in value if (p := json_problem(v, depth + 1))), None)
    return None


class Text(fields.String):
    """A string PostgreSQL and SQLite can both store: no NUL characters, no lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class Payload(fields.Dict):
    """A transition's payload: any JSON object whose text and numbers the database can keep."""

    def _deserialize(self, value, attr, data, **kwargs):
        payload = super()._deserialize(value, attr, data, **kwargs)
        problem = json_problem(payload)
        if problem:
            raise ValidationError(problem)
        return payload


class Moment(fields.String):
    """A date (YYYY-MM-DD, the campus's local day) or an ISO 8601 date-time (local unless it has an offset)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
        if not 1900 <= moment.year <= 9998:  # beyond, conversions to UTC and the day's end overflow
            raise ValidationError("must lie between the years 1900 and 9998")
        return moment


def to_utc(value: date | datetime | None, *, end_of_day: bool = False) -> datetime | None:
    """A moment in UTC; a bare date means the start (or end) of that day on campus."""
    if value is None:
        return None
    zone = current_app.extensions["xuncha.store"].calendar.zone
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
        if end_of_day:
            value += timedelta(days=1, microseconds=-1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


class ProblemSchema(Schema):
    """RFC 9457 problem details; `errors` names each field (or, for workflows, each line) at fault."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Raw(metadata={"description": "{field: message}, or [{line, message}] for workflow text"})
    state = fields.String(metadata={"description": "409: the finding's state"})
    event = fields.String()
    allowed = fields.List(fields.String(), metadata={"description": "409: events possible from the state"})
    reason = fields.Dict(keys=fields.String(), values=fields.String(),
                         metadata={"description": "422 guard refusal: the workflow's reason in zh and en"})
    guard = fields.String()
    roles_needed = fields.List(fields.String())
    expected = fields.Integer()
    actual = fields.Integer()


class LabelSchema(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class FieldSpecSchema(Schema):
    """A field an event asks for."""

    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "text, choice, number, date or attachments"})
    required = fields.Boolean(required=True)
    label = fields.Nested(LabelSchema, allow_none=True)
    choices = fields.List(fields.Raw())
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    max_length = fields.Integer(allow_none=True)


class EventSchema(Schema):
    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    to = fields.String(required=True)
    field_specs = fields.List(fields.Nested(FieldSpecSchema), required=True, data_key="fields")


class UnitRefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(allow_none=True)


class StateRefSchema(Schema):
    name = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    final = fields.Boolean(required=True)
    closed = fields.Boolean(required=True)


class WorkflowRefSchema(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)


class FindingSchema(Schema):
    """A finding as the caller sees it; `events` (single finding only) lists what it may do now."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    category = fields.String(required=True)
    location = fields.String(required=True)
    unit = fields.Nested(UnitRefSchema, required=True)
    source = fields.String(required=True)
    severity = fields.String(required=True)
    inspection_round = fields.String(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": "code of the registered place, if any"})
    round = fields.Integer(allow_none=True, metadata={"description": "id of the inspection round it was found in"})
    check = fields.Integer(allow_none=True, metadata={"description": "id of the check that recorded it"})
    found_by = fields.String(allow_none=True, metadata={"description": "department, centre, public or other"})
    workflow = fields.Nested(WorkflowRefSchema, required=True)
    state = fields.Nested(StateRefSchema, required=True)
    version = fields.Integer(required=True, metadata={"description": "bumped by every change; the ETag"})
    due_at = fields.DateTime(allow_none=True)
    remind_at = fields.DateTime(allow_none=True)
    due_calendar = fields.String(allow_none=True, metadata={
        "description": "the working calendar due_at was counted on (office, or one the workflows file names)"})
    overdue = fields.Boolean(required=True)
    failed_verifications = fields.Integer(required=True)
    reopenings = fields.Integer(required=True)
    overdue_count = fields.Integer(required=True)
    repeat_of = fields.Integer(allow_none=True)
    repeat_count = fields.Integer(required=True)
    repeats = fields.List(fields.Integer(), metadata={"description": "single finding: earlier findings it repeats"})
    repeated_by = fields.List(fields.Integer(), metadata={"description": "single finding: later repeats of it"})
    closed_on_time = fields.Boolean(allow_none=True, metadata={"description": "null until first closed"})
    deadline_at = fields.DateTime(allow_none=True, metadata={
        "description": "整改期限 set on assignment; replaces the due time of the states rules.deadline names"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)
    reporter = fields.String(allow_none=True)
    reporter_contact = fields.String(metadata={
        "description": "single finding reported by QR code: the reporter's contact, shown to inspectors and "
                       "administrators only (never to the unit concerned)"})
    events = fields.List(fields.Nested(EventSchema))


class FindingPageSchema(Schema):
    items = fields.List(fields.Nested(FindingSchema), required=True)
    next = fields.String(allow_none=True, required=True, metadata={"description": "URL of the next page, or null"})
    after = fields.String(allow_none=True, metadata={
        "description": "keyset cursor of the next page, to pass as `after` with the same sort (any sort but "
                       "due_at), or null; deep pages cost what the first one does"})


class ReportSchema(Schema):
    """A new finding."""

    title = Text(required=True, validate=validate.Length(1, 300))
    description = Text(load_default="", validate=validate.Length(max=20000))
    category = Text(required=True, validate=validate.Length(1, 100))
    location = Text(load_default="", validate=validate.Length(max=300),
                    metadata={"description": "required unless `place` is given; with a place, the detail "
                                             "(3层东侧卫生间); without one, the place's full name"})
    unit = Text(load_default=None, validate=validate.Length(1, 64),
                metadata={"description": "unit code; required unless `place` is given (then the place's unit "
                                         "by default)"})
    place = Text(load_default=None, allow_none=True, validate=validate.Length(1, 64),
                 metadata={"description": "code of the registered place where it was found"})
    round = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_ID),
                           metadata={"description": "id of the inspection round (in progress) it was found in; "
                                                    "gives the source (a centre round: self_inspection)"})
    severity = fields.String(load_default="normal", validate=validate.OneOf(SEVERITIES))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES),
                           metadata={"description": "default: public for public users, else department"})
    inspection_round = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))
    workflow = Text(load_default="finding", validate=validate.Length(1, 64))
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))

    @validates_schema(skip_on_field_errors=False)
    def _where(self, data, **_):
        # Without a registered place the report names its location and unit itself, as it always did.
        if data.get("place") is None:
            missing = {name: ["Missing data for required field."] for name in ("location", "unit")
                       if not data.get(name)}
            if missing:
                raise ValidationError(missing)


class TransitionSchema(Schema):
    """Fire an event: its payload fields are those the event lists in `events`."""

    event = Text(required=True, validate=validate.Length(1, 64))
    payload = Payload(keys=fields.String(), load_default=dict)
    comment = Text(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class FindingQuerySchema(Schema):
    state = DelimitedList(Text(validate=validate.Length(1, 64)), metadata={"description": "comma-separated"})
    unit = Text(validate=validate.Length(1, 64), metadata={"description": "unit code; includes units below"})
    category = Text(validate=validate.Length(1, 100))
    location = Text(validate=validate.Length(1, 300), metadata={"description": "part of the location"})
    source = fields.String(validate=validate.OneOf(SOURCES))
    overdue = fields.Boolean()
    repeat = fields.Boolean(metadata={"description": "true: repeats of earlier findings (repeat_of set)"})
    reported_from = Moment()
    reported_to = Moment(metadata={"description": "a bare date includes that whole day"})
    q = Text(validate=validate.Length(1, 200), metadata={"description": "text in title, description, location"})
    sort = fields.String(load_default="-id", validate=validate.OneOf(SORT_CHOICES))
    cursor = fields.Integer(validate=validate.Range(0, MAX_ID), metadata={"description": "from `next`"})
    page = fields.Integer(validate=validate.Range(1, 100000))
    after = Text(validate=validate.Length(1, 500), metadata={
        "description": "from `after` of the previous page, with the same sort: the page after it"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 2**31 - 1),
                              metadata={"description": f"at most {MAX_PER_PAGE} are sent, whatever is asked"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]),
                           metadata={"description": "xlsx: the ledger (整改台账) of every match, one row each"})

    @post_load
    def _times(self, data, **_):
        if "reported_from" in data:
            data["reported_from"] = to_utc(data["reported_from"])
        if "reported_to" in data:
            data["reported_to"] = to_utc(data["reported_to"], end_of_day=True)
        return data


class AuditRowSchema(Schema):
    """One row of the audit log."""

    id = fields.Integer(required=True)
    finding_id = fields.Integer(required=True)
    unit = fields.String(allow_none=True)
    seq = fields.Integer(required=True)
    event = fields.String(required=True)
    from_state = fields.String(allow_none=True, data_key="from")
    to_state = fields.String(required=True, data_key="to")
    actor = fields.String(required=True)
    role = fields.String(required=True)
    at = fields.DateTime(required=True)
    payload = fields.Dict(required=True)
    comment = fields.String(allow_none=True)
    workflow = fields.String(required=True)
    workflow_version = fields.Integer(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    finding_id = fields.Integer(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
