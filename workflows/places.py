"""The places file (places.yaml): place kinds, service periods, coverage targets, round roles, two-level credit."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import yaml
from marshmallow import Schema, ValidationError, fields, validate

from workflows import yamlsrc
from workflows.durations import Duration
from workflows.errors import DefinitionError, Problem
from workflows.loader import _shape_problems
from workflows.model import Label
from workflows.rules import _Duration

TIERS = ("campus", "area", "building", "floor", "point")  # top to bottom of the place tree
LEVELS = ("department", "centre")  # 督查 · 自查
DAY_TYPES = ("weekday", "weekend", "holiday")
PERS = {"day": 1, "week": 7, "month": 30}  # month buckets are calendar months; 30 only orders them
_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower_snake_case ASCII, starting with a letter")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DEFAULT_STALE = Duration(30.0, "days")
DEFAULT_WINDOW = Duration(7.0, "days")
DEFAULT_ROUND_ROLES = {"department": {"plan": ["inspector", "admin"], "check": ["inspector", "admin"]},
                       "centre": {"plan": ["centre", "admin"], "check": ["centre", "admin"]}}


class _LabelSchema(Schema):
    zh = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))


class _Hours(fields.Field):
    """"HH:MM-HH:MM" (may cross midnight; 24:00 ends a day), or null for no service."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return None
        match = _HOURS.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError(f"{value!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start == end:
            raise ValidationError(f"{value!r} is not a span of the day (00:00-24:00)")
        return (start, end if end > start else end + 24 * 60)


class _PeriodSchema(Schema):
    label = fields.Nested(_LabelSchema, required=True)
    hours = _Hours(load_default=None, allow_none=True)
    weekday = _Hours(allow_none=True)
    weekend = _Hours(allow_none=True)
    holiday = _Hours(allow_none=True)


class _KindSchema(Schema):
    label = fields.Nested(_LabelSchema, required=True)
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    periods = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(_PeriodSchema),
                          load_default=dict)


class _TargetSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    kind = fields.String(load_default=None)
    periods = fields.List(fields.String(), load_default=None)
    level = fields.String(load_default="any", validate=validate.OneOf([*LEVELS, "any"]))
    at_least = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per = fields.String(required=True, validate=validate.OneOf(list(PERS)))
    days = fields.List(fields.String(validate=validate.OneOf(DAY_TYPES)), load_default=None)


class _RoundRolesSchema(Schema):
    plan = fields.List(fields.String(), required=True)
    check = fields.List(fields.String(), required=True)


class _CreditSchema(Schema):
    self_corrected = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    missed = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    window = _Duration(load_default=DEFAULT_WINDOW)


DEFAULT_CATEGORIES = ("环境卫生", "食品安全", "设施设备", "安全隐患", "服务质量", "能源管理", "绿化养护", "秩序管理")


class _PublicSchema(Schema):
    categories = fields.List(fields.String(validate=validate.Length(1, 100)), validate=validate.Length(min=1),
                             load_default=lambda: list(DEFAULT_CATEGORIES))
    satisfaction = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=100))


class _PlacesSchema(Schema):
    kinds = fields.Dict(keys=fields.String(validate=_NAME), values=fields.Nested(_KindSchema), required=True)
    targets = fields.List(fields.Nested(_TargetSchema), load_default=list)
    stale_after = _Duration(load_default=DEFAULT_STALE)
    rounds = fields.Dict(keys=fields.String(validate=validate.OneOf(LEVELS)),
                         values=fields.Nested(_RoundRolesSchema), load_default=dict)
    credit = fields.Nested(_CreditSchema, load_default=lambda: {"self_corrected": 0.0, "missed": 0.0,
                                                                "window": DEFAULT_WINDOW})
    public = fields.Nested(_PublicSchema, load_default=lambda: {"categories": list(DEFAULT_CATEGORIES),
                                                                "satisfaction": 0.0})


class _FileSchema(Schema):
    version = fields.Integer(load_default=1)
    places = fields.Nested(_PlacesSchema, required=True)


@dataclass(frozen=True)
class Period:
    name: str
    label: Label
    spans: dict  # day type -> (start minute, end minute) after the day's midnight (end may pass 24:00) or None


@dataclass(frozen=True)
class Kind:
    name: str
    label: Label
    tier: str
    periods: dict[str, Period]

    @property
    def depth(self) -> int:
        return TIERS.index(self.tier)


@dataclass(frozen=True)
class Target:
    name: str
    kind: str | None
    periods: tuple[str, ...] | None
    level: str  # department | centre | any
    at_least: int
    per: str
    days: tuple[str, ...] | None

    def applies(self, kind: str, period: str) -> bool:
        return (self.kind is None or self.kind == kind) and (self.periods is None or period in self.periods)


@dataclass(frozen=True)
class PlaceConfig:
    """Everything the places file says, validated; `text` is what was loaded."""

    kinds: dict[str, Kind]
    targets: tuple[Target, ...]
    stale_after: Duration
    round_roles: dict[str, dict[str, tuple[str, ...]]]
    credit: dict = field(default_factory=dict)
    text: str = ""
    # 公众参与: the categories the QR page offers and the weight of reporters' satisfaction in the scorecard
    public: dict = field(default_factory=lambda: {"categories": list(DEFAULT_CATEGORIES), "satisfaction": 0.0})

    def label_of(self, kind: str) -> Label | None:
        return self.kinds[kind].label if kind in self.kinds else None

    def kind_named(self, text: str) -> str | None:
        """A kind by its key or by its Chinese or English label (files from offices use 食堂, not canteen)."""
        text = text.strip()
        if text in self.kinds:
            return text
        return next((k.name for k in self.kinds.values() if text in (k.label.zh, k.label.en)), None)


def day_span(period: Period, day_type: str) -> tuple[int, int] | None:
    return period.spans.get(day_type, period.spans.get("hours"))


def period_at(kind: Kind, local: datetime, day_type: Callable[[date], str]) -> tuple[str | None, date]:
    """The service period a campus-local moment falls in, and the service day it belongs to.

    A period that crosses midnight belongs to the day it began on: 02:00 on Saturday is Friday's night."""
    minute = local.hour * 60 + local.minute
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    for day, at in ((today, minute), (yesterday, minute + 24 * 60)):
        kind_of_day = day_type(day)
        for period in kind.periods.values():
            span = day_span(period, kind_of_day)
            if span and span[0] <= at < span[1]:
                return period.name, day
    return None, today


def load_places_text(text: str, file: str = "<string>") -> PlaceConfig:
    """Build the configuration, or raise DefinitionError listing every problem with its line."""
    try:
        tree = yamlsrc.parse(text)
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem(file, yamlsrc.error_line(exc, text),
                                       f"YAML: {getattr(exc, 'problem', None) or exc}")]) from None
    if not isinstance(tree, dict):
        raise DefinitionError([Problem(file, 1, "the file must be a mapping with a 'places' key")])
    try:
        data = _FileSchema().load(tree)
    except ValidationError as exc:
        raise DefinitionError(_shape_problems(exc.messages, tree, file)) from None
    node, raw, problems = tree["places"], data["places"], []

    def problem(line, message):
        problems.append(Problem(file, line, message))

    kinds = {}
    for name, k in raw["kinds"].items():
        periods = {}
        for pname, p in k["periods"].items():
            spans = {"hours": p["hours"], **{d: p[d] for d in DAY_TYPES if d in p}}
            if not any(spans.values()):
                problem(node["kinds"][name]["periods"].line_of(pname),
                        f"kinds.{name}.periods.{pname}: no hours on any day")
            periods[pname] = Period(pname, Label(**p["label"]), spans)
        kinds[name] = Kind(name, Label(**k["label"]), k["tier"], periods)
    targets = []
    for t, tnode in zip(raw["targets"], node.get("targets") or [], strict=False):
        if t["kind"] is not None and t["kind"] not in kinds:
            problem(tnode.line_of("kind"), f"target {t['name']!r}: unknown kind {t['kind']!r}")
        elif t["periods"] is not None:
            known = {p for k in kinds.values() if t["kind"] in (None, k.name) for p in k.periods}
            for pname in t["periods"]:
                if pname not in known:
                    problem(tnode.line_of("periods"), f"target {t['name']!r}: no period {pname!r} "
                                                      f"for kind {t['kind'] or 'any'}")
        targets.append(Target(t["name"], t["kind"], tuple(t["periods"]) if t["periods"] is not None else None,
                              t["level"], t["at_least"], t["per"], tuple(t["days"]) if t["days"] else None))
    if problems:
        raise DefinitionError(problems)
    roles = {level: {"plan": tuple(spec["plan"]), "check": tuple(spec["check"])}
             for level, spec in {**DEFAULT_ROUND_ROLES, **raw["rounds"]}.items()}
    public = {"categories": list(dict.fromkeys(raw["public"]["categories"])),
              "satisfaction": raw["public"]["satisfaction"]}
    return PlaceConfig(kinds, tuple(targets), raw["stale_after"], roles, dict(raw["credit"]), text, public)


def lint_places_text(text: str, file: str = "<string>", known_roles: set[str] | None = None) -> list[Problem]:
    """Every problem in a places file (never raises); round roles are checked against `known_roles` if given."""
    try:
        config = load_places_text(text, file)
    except DefinitionError as exc:
        return exc.problems
    problems = []
    node = yamlsrc.parse(text)["places"]
    if known_roles is not None:
        for level, spec in config.round_roles.items():
            for what, roles in spec.items():
                for role in roles:
                    if role not in known_roles:
                        line = yamlsrc.line_of(node.get("rounds"), level) if node.get("rounds") else node.line
                        problems.append(Problem(file, line, f"rounds.{level}.{what}: {role!r} is not a role of "
                                                            "the workflows", "warning"))
    for kind in config.kinds.values():
        if kind.tier == "building" and not kind.periods:
            problems.append(Problem(file, node["kinds"].line_of(kind.name),
                                    f"kinds.{kind.name}: no service periods, so no coverage", "warning"))
    return problems


def is_places_text(text: str) -> bool:
    """Whether a YAML text is a places file (top-level `places:`) rather than a workflows file."""
    try:
        tree = yamlsrc.parse(text)
    except yaml.YAMLError:
        return False
    return isinstance(tree, dict) and "places" in tree and "workflows" not in tree
