"""全覆盖: checks of every service place in every service period against the configured targets, and blind spots."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed
from engine.models import Check, Place, Unit
from engine.places import tree
from engine.places.config import current_config
from engine.places.periods import day_type
from engine.policy import visible_units
from engine.unit_of_work import UnitOfWork
from workflows.places import LEVELS, PlaceConfig, Target, day_span

MAX_DAYS = 800  # a coverage question spans at most about two years
CHECKS, PLACES = Check.__table__, Place.__table__


@dataclass(frozen=True)
class CoverageQuery:
    start: date  # campus days, both included
    end: date
    unit: str | None = None  # unit code: its places and those of the units below it
    kind: str | None = None
    level: str | None = None  # department | centre: count only that level's checks, show only its targets
    place: str | None = None  # place code: that subtree
    rounds: tuple[int, ...] = ()  # count only the checks of these inspection rounds (a briefing for rounds)


@dataclass(frozen=True, slots=True)
class TargetResult:
    name: str
    level: str
    per: str
    at_least: int
    required: int  # days, weeks or months of the range that need checks
    achieved: int  # of those, how many had enough

    @property
    def met(self) -> bool:
        return self.achieved >= self.required

    def as_dict(self) -> dict:
        return {"name": self.name, "level": self.level, "per": self.per, "at_least": self.at_least,
                "required": self.required, "achieved": self.achieved, "met": self.met}


@dataclass(slots=True)
class CoverageRow:
    place: str
    name: str
    kind: str
    unit: str | None
    period: str
    checks: dict[str, int]
    last_check_at: datetime | None
    targets: tuple[TargetResult, ...] = ()  # shared between rows with the same results: read-only

    @property
    def met(self) -> bool | None:
        return all(t.met for t in self.targets) if self.targets else None

    def as_dict(self) -> dict:
        return {"place": self.place, "name": self.name, "kind": self.kind, "unit": self.unit, "period": self.period,
                "checks": self.checks, "last_check_at": self.last_check_at,
                "targets": [t.as_dict() for t in self.targets], "met": self.met}


def _range(uow: UnitOfWork, q: CoverageQuery) -> tuple[datetime, datetime]:
    if q.end < q.start:
        raise InvalidFields({"to": "the period ends before it starts"})
    if (q.end - q.start).days > MAX_DAYS:
        raise InvalidFields({"to": f"at most {MAX_DAYS} days at a time"})
    zone = uow.calendar.zone
    return datetime.combine(q.start, datetime.min.time(), zone), \
        datetime.combine(q.end + timedelta(days=1), datetime.min.time(), zone)


def _places(uow: UnitOfWork, actor: Actor, config: PlaceConfig, q: CoverageQuery) -> list[tuple]:
    """Active service places (their kind has periods) the actor may see, filtered."""
    visible = visible_units(uow, actor)
    if visible == frozenset():
        raise NotAllowed(f"{actor.name} may not read coverage")
    kinds = [k.name for k in config.kinds.values() if k.periods]
    # Columns, not entities: thousands of places need no ORM identity (this is a read-only report).
    query = (sa.select(PLACES.c.id, PLACES.c.code, PLACES.c.name_zh, PLACES.c.kind, Unit.__table__.c.code)
             .outerjoin(Unit.__table__, Place.unit_id == Unit.id)
             .where(Place.active.is_(True), Place.kind.in_(kinds)))
    if visible is not None:
        query = query.where(Place.unit_id.in_(sorted(visible)))
    if q.kind:
        query = query.where(Place.kind == (config.kind_named(q.kind) or q.kind))
    if q.unit:
        from engine.queries import _unit_and_below

        query = query.where(Place.unit_id.in_(sorted(_unit_and_below(uow, q.unit))))
    if q.place:
        query = query.where(tree.in_subtree(tree.by_code(uow.session, q.place, field="place")))
    return uow.session.connection().execute(query.order_by(Place.path)).all()


def coverage(uow: UnitOfWork, actor: Actor, q: CoverageQuery) -> list[CoverageRow]:
    """One row per service place and period: checks by level, the last one, and each target's result."""
    config = current_config(uow)
    if q.level is not None and q.level not in LEVELS:
        raise InvalidFields({"level": f"must be one of {', '.join(LEVELS)}"})
    lo, hi = _range(uow, q)
    places = _places(uow, actor, config, q)
    narrow = bool(q.unit or q.kind or q.place) or visible_units(uow, actor) is not None
    ids = [p[0] for p in places]

    def scope(query):
        c = CHECKS.c
        query = query.where(c.at >= lo, c.at < hi)
        if q.level:
            query = query.where(c.level == q.level)
        if q.rounds:
            query = query.where(c.round_id.in_(q.rounds))
        return query.where(c.covers_id.in_(ids)) if narrow else query

    targets = [t for t in config.targets if q.level is None or t.level in (q.level, "any")]
    counts, last, achieved = _aggregate(uow, scope, targets, q.start)
    # (kind, period) -> [(target index, buckets required)], worked out once, not per place
    plan = _required_buckets(uow, config, targets, q.start, q.end)
    # Rows of one kind and period that achieved the same share one (read-only) tuple of TargetResults: a year
    # of thousands of places takes a few thousand of them instead of one object per row and target.
    # (kind, period) -> (the targets' achievements by (place, period), their requirements, the shared tuples)
    shared = {kp: ([achieved[i] for i, _ in needs], needs, {}) for kp, needs in plan.items()}
    rows = []
    level = q.level
    for place_id, code, name, kind, unit_code in places:
        for period in config.kinds[kind].periods:
            key = (place_id, period)
            found = counts.get(key)
            if found is None:
                checks = {level: 0} if level else {"department": 0, "centre": 0}
            else:  # a fresh dict per (place, period) from _aggregate: the row may keep it
                checks = {level: found[level]} if level else found
            sources, needs, known = shared[(kind, period)]
            got = tuple([source.get(key, 0) for source in sources])
            results = known.get(got)
            if results is None:
                results = known[got] = tuple(
                    TargetResult(targets[i].name, targets[i].level, targets[i].per, targets[i].at_least, need,
                                 min(need, n)) for (i, need), n in zip(needs, got, strict=True))
            rows.append(CoverageRow(code, name, kind, unit_code, period, checks, last.get(key), results))
    return rows


def _aggregate(uow: UnitOfWork, scope, targets: list[Target], first_day: date):
    """Counts by level and the last check per (place, period), and for each target the days, weeks or months
    with enough checks. One GROUP BY over the checks answers all of it for targets of one check per day, week
    or month (the usual kind: a count of distinct buckets); a target asking for more gets its own query."""
    c = CHECKS.c
    one = sa.literal(1)
    columns = [c.covers_id, c.period, sa.func.sum(sa.case((c.level == "department", one), else_=0)),
               sa.func.sum(sa.case((c.level == "centre", one), else_=0)), sa.func.max(c.at)]
    folded = [i for i, t in enumerate(targets) if t.at_least == 1]
    columns += [sa.func.count(sa.distinct(sa.case((_counts_for(targets[i]), _bucket(targets[i], first_day)))))
                for i in folded]
    if uow.dialect == "postgresql":
        # A year of checks is grouped in memory rather than spilled to disk (this transaction only).
        uow.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    counts: dict[tuple[int, str], dict[str, int]] = {}
    last: dict[tuple[int, str], datetime] = {}
    achieved: list[dict[tuple[int, str], int]] = [{} for _ in targets]
    for row in uow.session.connection().execute(scope(sa.select(*columns)).group_by(c.covers_id, c.period)).all():
        key = (row[0], row[1])
        counts[key] = {"department": int(row[2]), "centre": int(row[3])}
        last[key] = row[4]
        for position, i in enumerate(folded, 5):
            if row[position]:
                achieved[i][key] = row[position]
    for i, t in enumerate(targets):
        if t.at_least > 1:
            achieved[i] = _achieved(uow, scope, t, first_day)
    return counts, last, achieved


def _counts_for(t: Target) -> sa.ColumnElement[bool]:
    """SQL: a check counts for target `t` (its level, days and periods)."""
    c = CHECKS.c
    conditions = [c.level == t.level] if t.level != "any" else []
    if t.days:
        conditions.append(c.day_type.in_(t.days))
    if t.periods:
        conditions.append(c.period.in_(t.periods))
    return sa.and_(sa.true(), *conditions)


def _bucket(t: Target, first_day: date):
    c = CHECKS.c
    if t.per == "day":
        return c.day_number
    if t.per == "week":  # weeks counted from the first day asked for
        return (c.day_number - first_day.toordinal()) // 7
    return c.month_number


def _achieved(uow: UnitOfWork, scope, t: Target, first_day: date) -> dict[tuple[int, str], int]:
    """(place, period) -> how many days/weeks/months had at least `at_least` checks counting for target `t`."""
    c = CHECKS.c
    bucket = _bucket(t, first_day).label("bucket")
    inner = (scope(sa.select(c.covers_id, c.period, bucket).where(_counts_for(t)))
             .group_by(c.covers_id, c.period, bucket).having(sa.func.count() >= t.at_least).subquery())
    query = sa.select(inner.c.covers_id, inner.c.period, sa.func.count()).group_by(inner.c.covers_id,
                                                                                    inner.c.period)
    return {(covers, period): n for covers, period, n in uow.session.connection().execute(query)}


def _required_buckets(uow: UnitOfWork, config: PlaceConfig, targets: list[Target], start: date,
                      end: date) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(kind, period) -> [(index of a target applying, days, weeks or months of the range with service on a
    day the target counts)]."""
    calendar = uow.calendar
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    types = {d: day_type(calendar, d) for d in days}
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for kind in config.kinds.values():
        for period in kind.periods.values():
            out[(kind.name, period.name)] = []
    for i, t in enumerate(targets):
        for kind in config.kinds.values():
            for period in kind.periods.values():
                if not t.applies(kind.name, period.name):
                    continue
                buckets = set()
                for d in days:
                    if (t.days is None or types[d] in t.days) and day_span(period, types[d]):
                        buckets.add(d.toordinal() if t.per == "day" else (d - start).days // 7
                                    if t.per == "week" else (d.year, d.month))
                out[(kind.name, period.name)].append((i, len(buckets)))
    return out


@dataclass(slots=True)  # a year of thousands of places can fall short tens of thousands of times
class Gap:
    place: str
    name: str
    kind: str
    unit: str | None
    period: str | None
    reason: str  # below_target | not_checked
    target: str | None
    required: int
    achieved: int
    last_check_at: datetime | None

    @property
    def missing(self) -> int:
        return self.required - self.achieved

    def as_dict(self) -> dict:
        return {"place": self.place, "name": self.name, "kind": self.kind, "unit": self.unit, "period": self.period,
                "reason": self.reason, "target": self.target, "required": self.required, "achieved": self.achieved,
                "missing": self.missing, "last_check_at": self.last_check_at}


def gaps(uow: UnitOfWork, actor: Actor, q: CoverageQuery, *, stale_days: int | None = None,
         now: datetime | None = None, rows: list[CoverageRow] | None = None) -> list[Gap]:
    """Blind spots (死角), worst first: periods below target (the larger the share missing, the worse), then
    places not checked at all for `stale_days` (the configured `stale_after` by default), never checked first.
    `rows`: the coverage of `q` when the caller has it already."""
    config, now = current_config(uow), now or utcnow()
    rows = coverage(uow, actor, q) if rows is None else rows
    out = []
    for row in rows:
        for t in row.targets:
            if not t.met:
                out.append(Gap(row.place, row.name, row.kind, row.unit, row.period, "below_target", t.name,
                               t.required, t.achieved, row.last_check_at))
    out.sort(key=lambda g: (-(g.missing / g.required), g.achieved, g.last_check_at is not None,
                            g.last_check_at or now, g.place, g.period or ""))
    days = stale_days if stale_days is not None else int(config.stale_after.amount) \
        if config.stale_after.unit == "days" else max(1, int(config.stale_after.amount // 24))
    since = now - timedelta(days=days)
    seen = {row.place: row for row in rows}
    latest = dict(uow.session.execute(sa.select(Place.code, sa.func.max(Check.at))
                                      .join(Check, Check.covers_id == Place.id).group_by(Place.code)).all())
    stale = []
    for code, row in seen.items():
        at = latest.get(code)
        if at is None or at < since:
            stale.append(Gap(code, row.name, row.kind, row.unit, None, "not_checked", None, 0, 0, at))
    stale.sort(key=lambda g: (g.last_check_at is not None, g.last_check_at or now, g.place))
    return out + stale


GAP_COLUMNS = ("place", "name", "kind", "unit", "period", "reason", "target", "required", "achieved", "missing",
               "last_check_at")
COVERAGE_COLUMNS = ("place", "name", "kind", "unit", "period", "department", "centre", "last_check_at", "met",
                    "targets_unmet")


def coverage_csv_rows(rows: list[CoverageRow]) -> list[list]:
    out: list[list] = [list(COVERAGE_COLUMNS)]
    for r in rows:
        out.append([r.place, r.name, r.kind, r.unit, r.period, r.checks.get("department", ""),
                    r.checks.get("centre", ""), r.last_check_at.isoformat() if r.last_check_at else "",
                    "" if r.met is None else ("是" if r.met else "否"),
                    "；".join(t.name for t in r.targets if not t.met)])
    return out


def gap_csv_rows(items: list[Gap]) -> list[list]:
    out: list[list] = [list(GAP_COLUMNS)]
    for g in items:
        data = g.as_dict()
        out.append([data[c].isoformat() if isinstance(data[c], datetime) else data[c] for c in GAP_COLUMNS])
    return out
