"""The `rules:` section of a workflow: recurrence classes, scorecard weights, who may commend; shape and names."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from workflows.durations import Duration
from workflows.errors import Problem

_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower_snake_case ASCII, starting with a letter")
DEFAULT_WINDOW = Duration(90.0, "days")
DEFAULT_WEIGHTS = {"on_time": 50.0, "closure": 30.0, "rework": 10.0, "base": 10.0}
DEFAULT_COMMENDERS = ("inspector", "leader", "admin")
# What a rule (or the sweep) puts in the payload of the event it fires; the event must declare `rule`.
SYSTEM_FIELDS = frozenset({"rule", "reason", "missed_due"})


class _Duration(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        from workflows.durations import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class RepeatFoundSchema(Schema):
    """屡查屡犯: the same category at the same place within `window`; `event` fires at `threshold` earlier ones."""

    window = _Duration(load_default=DEFAULT_WINDOW)
    # place | floor | building | area compare registered places by the tree; location (= place) and building
    # also name the text rule for findings without a place.
    same = fields.String(load_default="location",
                         validate=validate.OneOf(["location", "place", "floor", "building", "area"]))
    separator = fields.String(load_default=" ", validate=validate.Length(min=1))  # building = text before it
    threshold = fields.Integer(load_default=None, validate=validate.Range(min=1))
    event = fields.String(load_default=None, validate=_NAME)
    exclude_states = fields.List(fields.String(), load_default=list)  # e.g. dismissed reports are no precedent

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        if (data["threshold"] is None) != (data["event"] is None):
            raise ValidationError("threshold and event go together (or leave both out to only link findings)",
                                  "event" if data["event"] is None else "threshold")


class RepeatFailedSchema(Schema):
    """屡改屡犯: failed verifications + reopenings of one finding reaching `threshold` fire `event`."""

    threshold = fields.Integer(required=True, validate=validate.Range(min=1))
    event = fields.String(required=True, validate=_NAME)


class NotFixedSchema(Schema):
    """查而不改: a finding reported again while an earlier one is open counts (and may fire `event` on it)."""

    reported_again_while_open = fields.Boolean(load_default=True)
    event = fields.String(load_default=None, validate=_NAME)


class WeightsSchema(Schema):
    on_time = fields.Float(load_default=DEFAULT_WEIGHTS["on_time"], validate=validate.Range(min=0))
    closure = fields.Float(load_default=DEFAULT_WEIGHTS["closure"], validate=validate.Range(min=0))
    rework = fields.Float(load_default=DEFAULT_WEIGHTS["rework"], validate=validate.Range(min=0))
    base = fields.Float(load_default=DEFAULT_WEIGHTS["base"], validate=validate.Range(min=0))


class ScorecardSchema(Schema):
    weights = fields.Nested(WeightsSchema, load_default=lambda: dict(DEFAULT_WEIGHTS))


class CommendationSchema(Schema):
    roles = fields.List(fields.String(), load_default=lambda: list(DEFAULT_COMMENDERS),
                        validate=validate.Length(min=1))


class RulesSchema(Schema):
    repeat_found = fields.Nested(RepeatFoundSchema, load_default=None)
    repeat_failed = fields.Nested(RepeatFailedSchema, load_default=None)
    not_fixed = fields.Nested(NotFixedSchema, load_default=None)
    scorecard = fields.Nested(ScorecardSchema, load_default=None)
    commendation = fields.Nested(CommendationSchema, load_default=None)


def rule_problems(workflow: str, rules: dict, node, states: dict, roles: dict, transitions: list,
                  file: str) -> list[Problem]:
    """Names a rule refers to that the workflow lacks: events the system cannot fire, states, roles."""
    problems: list[Problem] = []

    def line(rule: str, key: str):
        sub = node.get(rule) if hasattr(node, "get") else None
        return sub.line_of(key) if hasattr(sub, "line_of") else getattr(node, "line", None)

    def problem(rule: str, key: str, message: str):
        problems.append(Problem(file, line(rule, key), f"workflow {workflow!r}: rules.{rule}.{key}: {message}"))

    for rule in ("repeat_found", "repeat_failed", "not_fixed"):
        event = (rules.get(rule) or {}).get("event")
        if event is None:
            continue
        fired = [t for t in transitions if t.event == event]
        if not fired:
            problem(rule, "event", f"{event!r} is not an event of this workflow")
        elif not any("system" in t.roles and "rule" in {f.name for f in t.fields}
                     and set(t.required_fields) <= SYSTEM_FIELDS for t in fired):
            problem(rule, "event", f"{event!r} must be a transition the role 'system' may fire, declaring a "
                                   f"'rule' field and requiring none beyond {', '.join(sorted(SYSTEM_FIELDS))}")
    for state in (rules.get("repeat_found") or {}).get("exclude_states", ()):
        if state not in states:
            problem("repeat_found", "exclude_states", f"{state!r} is not a state of this workflow")
    for role in (rules.get("commendation") or {}).get("roles", ()):
        if role not in roles:
            problem("commendation", "roles", f"{role!r} is not a role of this workflow")
    return problems
