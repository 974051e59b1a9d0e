"""Marshmallow schemas of the closed loop: units, scorecards, sanctions, commendations and notifications."""
from __future__ import annotations

from datetime import date, datetime

from marshmallow import Schema, ValidationError, fields, validate

from engine.queries import MAX_PER_PAGE
from engine.records import MAX_COMMENDATION_POINTS
from web.schemas import MAX_ID, LabelSchema, Moment, Text

# Far enough either way for any inspection record, near enough that moving to UTC or to the next day never
# overflows Python's datetime (year 1 or 9999 would).
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
FORMATS = validate.OneOf(["json", "csv", "xlsx"])
CSV_NOTE = ("format=csv: the same rows as CSV, UTF-8 with a BOM (Excel shows the Chinese text); format=xlsx: "
            "an Excel workbook with Chinese headers")


def _in_range(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}")


class Day(fields.Date):
    """A campus day, YYYY-MM-DD."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        _in_range(day)
        return day


class Since(Moment):
    """A date or ISO 8601 date-time, within the years records can have."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        _in_range(moment)
        return moment


class UnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    parent = fields.String(allow_none=True, required=True, metadata={"description": "the parent unit's code"})
    calendar = fields.String(allow_none=True, metadata={
        "description": "the calendar its findings' due times are counted on where a state names none (null: office)"})


class PeriodQuerySchema(Schema):
    start = Day(required=True, data_key="from", metadata={"description": "first day, YYYY-MM-DD"})
    end = Day(required=True, data_key="to", metadata={"description": "last day, YYYY-MM-DD (included)"})
    format = fields.String(load_default="json", validate=FORMATS)
    subunits = fields.Boolean(load_default=None, metadata={
        "description": "include the findings and records of the units below each unit; default true for one "
                       "unit's scorecard, false for the ranking (so no finding counts on two lines)"})


class ScorecardSchema(Schema):
    """One unit's results for the period: counts, rates (0..1), the composite score and, in a ranking, its rank."""

    rank = fields.Integer(metadata={"description": "ranking only; equal scores share a rank"})
    unit = fields.String(required=True)
    name = fields.String(required=True)
    start = fields.DateTime(required=True, data_key="from")
    end = fields.DateTime(required=True, data_key="to", metadata={"description": "exclusive"})
    received = fields.Integer(required=True)
    dismissed = fields.Integer(required=True)
    due_to_close = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    closed_on_time = fields.Integer(required=True)
    open = fields.Integer(required=True)
    open_overdue = fields.Integer(required=True)
    failed_verifications = fields.Integer(required=True)
    not_fixed = fields.Integer(required=True, metadata={"description": "查而不改"})
    repeat_found = fields.Integer(required=True, metadata={"description": "屡查屡犯"})
    repeat_failed = fields.Integer(required=True, metadata={"description": "屡改屡犯"})
    sanctions = fields.Integer(required=True)
    sanction_points = fields.Float(required=True)
    commendations = fields.Integer(required=True)
    commendation_points = fields.Float(required=True)
    self_corrected = fields.Integer(metadata={"description": "自查自纠: found by its own rounds, closed on time"})
    self_correction_points = fields.Float(metadata={"description": "points 自查自纠 adds (places file `credit`)"})
    missed = fields.Integer(metadata={"description": "漏查: found by the department or the public where the unit's "
                                                     "own rounds had seen nothing, or had not looked though due"})
    missed_points = fields.Float(metadata={"description": "points 漏查 takes off"})
    ratings = fields.Integer(metadata={"description": "满意度: public reports of the period rated by their reporters"})
    rating_sum = fields.Integer(metadata={"description": "the stars of those ratings, added up"})
    satisfaction = fields.Float(allow_none=True, metadata={"description": "mean rating 1-5; null with none"})
    satisfaction_points = fields.Float(metadata={
        "description": "points 满意度 adds or takes off: ±public.satisfaction of the places file at a mean of 5 or 1"})
    closure_rate = fields.Float(required=True)
    on_time_rate = fields.Float(required=True)
    rework_rate = fields.Float(required=True)
    overdue_rate = fields.Float(required=True)
    score = fields.Float(required=True, allow_none=True, metadata={
        "description": "weights from the workflow's rules.scorecard; null when the unit is not rated"})
    rated = fields.Boolean(metadata={"description": "false: no finding was due to close in the period, so the "
                                                    "unit has no score and no rank"})
    subunits = fields.List(fields.String(), metadata={"description": "codes of the units below it included"})


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, MAX_ID),
                              metadata={"description": f"at most {MAX_PER_PAGE} are sent"})


class SanctionQuerySchema(PageQuerySchema):
    unit = Text(validate=validate.Length(1, 64), metadata={"description": "unit code"})
    kind = Text(validate=validate.Length(1, 32))
    start = Day(data_key="from", metadata={"description": "decided on or after this day"})
    end = Day(data_key="to", metadata={"description": "decided on or before this day"})
    finding = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "covers this finding"})
    format = fields.String(load_default="json", validate=FORMATS, metadata={"description": CSV_NOTE})


class SanctionInputSchema(Schema):
    """A decision holding one unit to account for one or more of its findings (fields of the `sanction` event)."""

    findings = fields.List(fields.Integer(validate=validate.Range(1, MAX_ID)), required=True,
                           validate=validate.Length(1, 1000), metadata={"description": "finding ids, one unit"})
    kind = Text(load_default=None, validate=validate.Length(1, 32),
                metadata={"description": "criticism, warning, deduction or contract_penalty"})
    decision = Text(load_default=None, validate=validate.Length(max=5000))
    points = fields.Float(load_default=None, validate=validate.Range(0, 999999))
    amount = fields.Float(load_default=None, validate=validate.Range(0, 9_999_999_999.99),
                          metadata={"description": "CNY"})
    contract = Text(load_default=None, validate=validate.Length(1, 100))


class SanctionSchema(Schema):
    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    kind = fields.String(required=True)
    points = fields.Float(required=True)
    amount = fields.Float(allow_none=True)
    contract = fields.String(allow_none=True)
    decision = fields.String(required=True)
    findings = fields.List(fields.Integer(), required=True)
    decided_by = fields.String(required=True)
    decided_at = fields.DateTime(required=True)


class SanctionPageSchema(Schema):
    items = fields.List(fields.Nested(SanctionSchema), required=True)
    next = fields.String(allow_none=True, required=True, metadata={"description": "URL of the next page, or null"})


class CommendationQuerySchema(PageQuerySchema):
    unit = Text(validate=validate.Length(1, 64), metadata={"description": "unit code"})
    start = Day(data_key="from", metadata={"description": "recorded on or after this day"})
    end = Day(data_key="to", metadata={"description": "recorded on or before this day"})


class CommendationInputSchema(Schema):
    """Good practice seen on inspection (正面典型)."""

    unit = Text(required=True, validate=validate.Length(1, 64), metadata={"description": "unit code"})
    location = Text(required=True, validate=validate.Length(1, 300))
    text = Text(required=True, validate=validate.Length(1, 5000))
    points = fields.Float(load_default=0, validate=validate.Range(0, MAX_COMMENDATION_POINTS))
    attachment_ids = fields.List(fields.Integer(validate=validate.Range(1, MAX_ID)), load_default=list,
                                 validate=validate.Length(max=50), metadata={"description": "photos"})


class CommendationSchema(Schema):
    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    location = fields.String(required=True)
    text = fields.String(required=True)
    points = fields.Float(required=True)
    attachment_ids = fields.List(fields.Integer(), required=True)
    recorded_by = fields.String(required=True)
    at = fields.DateTime(required=True)


class CommendationPageSchema(Schema):
    items = fields.List(fields.Nested(CommendationSchema), required=True)
    next = fields.String(allow_none=True, required=True)


class NotificationQuerySchema(Schema):
    unit = Text(validate=validate.Length(1, 64), metadata={"description": "unit code"})
    since = Since(metadata={"description": "created at or after (a date means its start on campus)"})
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    unit = fields.String(required=True)
    finding_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "reminder or overdue"})
    state = fields.String(required=True)
    message = fields.Nested(LabelSchema, required=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
