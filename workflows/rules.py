"""The `rules:` section of a workflow: recurrence classes, scorecard weights, who may commend; shape and names."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from workflows.durations import Duration
from workflows.errors import Problem

_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower_snake_case ASCII, starting with a letter")
DEFAULT_WINDOW = Duration(90.0, "days")
DEFAULT_WEIGHTS = {"on_time": 50.0, "closure": 30.0, "rework": 10.0, "base": 10.0}
DEFAULT_COMMENDERS = ("inspector", "leader", "admin")
DEFAULT_DEADLINE_EXTENDERS = ("leader", "admin")
# What a rule (or the sweep) puts in the payload of the event it fires; the event must declare `rule`.
SYSTEM_FIELDS = frozenset({"rule", "reason", "missed_due", "triggered_by"})
# Chinese addresses have no spaces: the building of "学生公寓9号楼3层东侧卫生间" is the shortest start of the text
# that one of these patterns matches, tried in order (numbered buildings first, so 学生公寓9号楼 is not cut at
# 公寓; floors such as 二楼 or 3楼 are no building). Text is compared after NFKC (full-width digits and spaces
# become ASCII) with white space removed. No pattern matching: the text before the first separator.
_NUMERAL = "[0-9A-Za-z一二三四五六七八九十百零〇]+"
DEFAULT_BUILDING_PATTERNS = (
    rf"^.*?{_NUMERAL}(?:号楼|栋|幢|座|舍)",
    r"^.*?(?:食堂|餐厅|公寓|宿舍|图书馆|馆|中心|大厅|大楼|(?<![0-9一二三四五六七八九十])楼|广场|房|站)",
)
DEFAULT_SEPARATORS = " ,，、;；/（("


def _pattern(value: str) -> None:
    try:
        re.compile(value)
    except (re.error, TypeError) as exc:
        raise ValidationError(f"{value!r} is not a regular expression: {exc}") from None


class _Duration(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        from workflows.durations import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class RepeatFoundSchema(Schema):
    """屡查屡犯: the same category at the same place within `window`; `event` fires at `threshold` earlier ones.

    The rule runs when a finding is accepted into the loop (`when`: events leaving the initial state), among the
    findings of the same responsible unit unless `same_unit: false`."""

    window = _Duration(load_default=DEFAULT_WINDOW)
    # place | floor | building | area compare registered places by the tree; without a place, the text rule:
    # location and place the same text, building (floor, area) the same building found in the text.
    same = fields.String(load_default="location",
                         validate=validate.OneOf(["location", "place", "floor", "building", "area"]))
    separator = fields.String(load_default=None, validate=validate.Length(min=1))  # older files: one separator
    separators = fields.String(load_default=DEFAULT_SEPARATORS, validate=validate.Length(min=1))
    building = fields.List(fields.String(validate=_pattern), load_default=lambda: list(DEFAULT_BUILDING_PATTERNS),
                           validate=validate.Length(min=1))
    threshold = fields.Integer(load_default=None, validate=validate.Range(min=1))
    event = fields.String(load_default=None, validate=_NAME)
    exclude_states = fields.List(fields.String(), load_default=list)  # e.g. dismissed reports are no precedent
    when = fields.List(fields.String(validate=_NAME), load_default=None, validate=validate.Length(min=1))
    same_unit = fields.Boolean(load_default=True)

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
    when = fields.List(fields.String(validate=_NAME), load_default=None, validate=validate.Length(min=1))
    same_unit = fields.Boolean(load_default=True)


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


class DeadlineSchema(Schema):
    """整改期限: a date the assigning person may give in `field` (a transition's `date` field); it replaces the due
    time of `states` for that finding (end of that working day). Later than the longest due of those states,
    counted from the moment it is set, needs one of `later_by`."""

    field = fields.String(load_default="deadline", validate=_NAME)
    states = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    later_by = fields.List(fields.String(), load_default=lambda: list(DEFAULT_DEADLINE_EXTENDERS),
                           validate=validate.Length(min=1))


class RulesSchema(Schema):
    repeat_found = fields.Nested(RepeatFoundSchema, load_default=None)
    repeat_failed = fields.Nested(RepeatFailedSchema, load_default=None)
    not_fixed = fields.Nested(NotFixedSchema, load_default=None)
    scorecard = fields.Nested(ScorecardSchema, load_default=None)
    commendation = fields.Nested(CommendationSchema, load_default=None)
    deadline = fields.Nested(DeadlineSchema, load_default=None)


def accepting_events(rule: dict, initial: str, states: dict, transitions: list) -> tuple[str, ...]:
    """The events that accept a finding into the loop for a recurrence rule: its `when`, or by default every event
    leading out of the initial state to a state that is neither final nor closed (not a dismissal)."""
    if rule.get("when"):
        return tuple(rule["when"])
    found = []
    for t in transitions:
        target = states.get(t.dest)
        if initial in t.sources and target is not None and not (target.final or target.closed) \
                and t.event not in found:
            found.append(t.event)
    return tuple(found)


def rule_problems(workflow: str, rules: dict, node, states: dict, roles: dict, transitions: list,
                  file: str, initial: str | None = None) -> list[Problem]:
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
    for rule in ("repeat_found", "not_fixed"):
        for event in (rules.get(rule) or {}).get("when") or ():
            if initial is not None and not any(t.event == event and initial in t.sources for t in transitions):
                problem(rule, "when", f"{event!r} is no event leaving the initial state {initial!r}: the rule "
                                    f"runs when a finding is accepted into the loop")
    for state in (rules.get("repeat_found") or {}).get("exclude_states", ()):
        if state not in states:
            problem("repeat_found", "exclude_states", f"{state!r} is not a state of this workflow")
    deadline = rules.get("deadline") or {}
    for state in deadline.get("states", ()):
        if state not in states:
            problem("deadline", "states", f"{state!r} is not a state of this workflow")
        elif not states[state].due:
            problem("deadline", "states", f"state {state!r} has no due time for a deadline to replace")
    for role in deadline.get("later_by", ()):
        if role not in roles:
            problem("deadline", "later_by", f"{role!r} is not a role of this workflow")
    if deadline and not any(f.name == deadline["field"] and f.type == "date" for t in transitions for f in t.fields):
        problem("deadline", "field", f"no transition declares a date field {deadline['field']!r} to set it with")
    for role in (rules.get("commendation") or {}).get("roles", ()):
        if role not in roles:
            problem("commendation", "roles", f"{role!r} is not a role of this workflow")
    return problems
