"""Unit scorecards (结果运用): counts and rates for a period, a composite score weighted in the YAML, a ranking."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from engine import public
from engine.actors import Actor, unit_subtree
from engine.credit import credit_by_unit
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import Commendation, Finding, FindingLink, Sanction, Unit
from engine.places.config import loaded_config
from engine.policy import visible_units
from engine.unit_of_work import UnitOfWork
from workflows.rules import DEFAULT_WEIGHTS

DEFAULT_WORKFLOW = "finding"


@dataclass(frozen=True)
class Tally:
    """What happened to one unit's findings received in a period, plus its sanctions and commendations."""

    received: int = 0
    dismissed: int = 0  # ended without being closed (not accepted): not due to close
    closed: int = 0  # closed now (closed or archived), not reopened
    closed_on_time: int = 0
    open: int = 0
    open_overdue: int = 0
    failed_verifications: int = 0
    not_fixed: int = 0  # 查而不改: swept past a deadline, or reported again while still open
    repeat_found: int = 0  # 屡查屡犯: a repeat of earlier findings at the same place
    repeat_failed: int = 0  # 屡改屡犯: failed a verification or was reopened at least once
    sanctions: int = 0
    sanction_points: float = 0.0
    commendations: int = 0
    commendation_points: float = 0.0
    # 两级巡查 (weights in the places file): 自查自纠 found and closed on time by the unit itself; 漏查 missed
    self_corrected: int = 0
    self_correction_points: float = 0.0
    missed: int = 0
    missed_points: float = 0.0
    # 满意度: public reporters' ratings (1-5) of their closed reports; points from the places file's
    # `public.satisfaction` weight, set on the unit's whole tally (see satisfaction_points)
    ratings: int = 0
    rating_sum: int = 0
    satisfaction_points: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Tally)))


@dataclass(frozen=True)
class Rates:
    closure: float  # 整改率 closed / due to close
    on_time: float  # 按期整改率 closed on time / due to close
    rework: float  # 返工率 failed verifications / due to close, at most 1
    overdue: float  # 超期率 open past due / open


def rates(t: Tally) -> Rates:
    """The four rates. With nothing due to close a unit has nothing left undone: full closure, no rework."""
    due = t.received - t.dismissed
    if due <= 0:
        closure = on_time = 1.0
        rework = 0.0
    else:
        closure, on_time, rework = t.closed / due, t.closed_on_time / due, min(1.0, t.failed_verifications / due)
    return Rates(closure, on_time, rework, t.open_overdue / t.open if t.open else 0.0)


def satisfaction(t: Tally) -> float | None:
    """The mean rating (1-5) of the public reports rated, or None when none was."""
    return round(t.rating_sum / t.ratings, 2) if t.ratings else None


def satisfaction_points(t: Tally, weight: float) -> float:
    """±`weight` at most: a mean of 5 stars adds the weight, 3 adds nothing, 1 takes the weight off. A mean, not
    a sum, so a unit with many public reports is not rewarded or punished for being reported more."""
    mean = satisfaction(t)
    return 0.0 if mean is None else round(weight * (mean - 3) / 2, 2)


def composite(t: Tally, weights: dict | None = None) -> float:
    """on_time·w + closure·w + (1 − rework)·w + base − sanction points + commendation points (100 by default),
    plus 自查自纠 points, less 漏查 points, plus or minus the public's 满意度 points.

    Not clamped: a sanction or commendation moves the score by exactly its points, and a unit sanctioned
    below zero still ranks below one that was not."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    r = rates(t)
    score = (w["on_time"] * r.on_time + w["closure"] * r.closure + w["rework"] * (1 - r.rework) + w["base"]
             - t.sanction_points + t.commendation_points + t.self_correction_points - t.missed_points
             + t.satisfaction_points)
    return round(score, 2)


@dataclass(frozen=True)
class Scorecard:
    unit: str
    name: str
    start: datetime
    end: datetime
    tally: Tally
    rates: Rates
    score: float | None  # None: not rated
    rank: int | None = None
    subunits: tuple[str, ...] = ()  # codes of the units below it whose findings and records it includes

    @property
    def rated(self) -> bool:
        return self.score is not None

    def as_dict(self) -> dict:
        out = {"unit": self.unit, "name": self.name, "from": self.start.isoformat(), "to": self.end.isoformat(),
               **asdict(self.tally), "due_to_close": self.tally.received - self.tally.dismissed,
               **{f"{k}_rate": round(v, 4) for k, v in asdict(self.rates).items()},
               "satisfaction": satisfaction(self.tally), "score": self.score,
               "rated": self.rated, "subunits": list(self.subunits)}
        if self.rank is not None:
            out["rank"] = self.rank
        return out


def is_rated(t: Tally) -> bool:
    """A unit is rated when it had findings due to close in the period; with nothing to score, a score of 100
    would rank it above every unit that did its work, so it gets none (its records are still counted)."""
    return t.received - t.dismissed > 0


def rank(cards: list[Scorecard]) -> list[Scorecard]:
    """Best score first; equal scores share a rank (1, 2, 2, 4), then order by unit code. Units not rated come
    last, by code, without a rank."""
    rated = sorted((c for c in cards if c.rated), key=lambda c: (-c.score, c.unit))
    out, previous = [], None
    for position, card in enumerate(rated, 1):
        place = previous.rank if previous is not None and previous.score == card.score else position
        previous = replace(card, rank=place)
        out.append(previous)
    return out + sorted((c for c in cards if not c.rated), key=lambda c: c.unit)


CSV_COLUMNS = ("rank", "unit", "name", "from", "to", "rated", "received", "due_to_close", "closed", "closed_on_time",
               "closure_rate", "on_time_rate", "rework_rate", "overdue_rate", "not_fixed", "repeat_found",
               "repeat_failed", "sanctions", "sanction_points", "commendations", "commendation_points",
               "self_corrected", "self_correction_points", "missed", "missed_points", "ratings", "satisfaction",
               "satisfaction_points", "score")


def csv_rows(cards: list[Scorecard]) -> list[list]:
    """Header and one row per scorecard, for csv.writer."""
    rows: list[list] = [list(CSV_COLUMNS)]
    for card in cards:
        data = card.as_dict()
        rows.append(["" if data.get(column) is None else data[column] for column in CSV_COLUMNS])
    return rows


# --- reading the database ------------------------------------------------------------------------------------

def period(start: date | datetime, end: date | datetime, zone) -> tuple[datetime, datetime]:
    """[start, end) in UTC; dates are campus days and `end` as a date is included (to its midnight)."""
    def bound(value, inclusive_day: bool) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidFields({"to" if inclusive_day else "from": "give a time zone or a date"})
            return value
        day = value + timedelta(days=1) if inclusive_day else value
        return datetime.combine(day, time(0), zone)

    lo, hi = bound(start, False), bound(end, True)
    if hi <= lo:
        raise InvalidFields({"to": "the period ends before it starts"})
    return lo, hi


def unit_scorecard(uow: UnitOfWork, actor: Actor, unit: str, start: date | datetime, end: date | datetime, *,
                   now: datetime | None = None, workflow: str = DEFAULT_WORKFLOW, subunits: bool = True) -> Scorecard:
    """The scorecard of one unit for a period: with `subunits` (the default) its findings and records and those of
    every unit below it (PROP with PROP-DORM), else its own only."""
    unit_row = uow.session.scalar(sa.select(Unit).where(Unit.code == unit))
    visible = visible_units(uow, actor)
    if unit_row is None or (visible is not None and unit_row.id not in visible):
        raise NotFound("unit", unit)
    return _cards(uow, start, end, now, workflow, [unit_row], subunits)[0]


def ranking(uow: UnitOfWork, actor: Actor, start: date | datetime, end: date | datetime, *,
            now: datetime | None = None, workflow: str = DEFAULT_WORKFLOW, subunits: bool = False) -> list[Scorecard]:
    """Every unit's scorecard for a period, ranked (a briefing publishes the whole table). Each line holds the
    unit's own findings unless `subunits`, so by default no finding counts on two lines."""
    if visible_units(uow, actor) == frozenset():
        raise NotAllowed(f"{actor.name} may not read scorecards")
    units = list(uow.session.scalars(sa.select(Unit).order_by(Unit.code)))
    return rank(_cards(uow, start, end, now, workflow, units, subunits))


def _cards(uow, start, end, now, workflow, units, subunits: bool = False) -> list[Scorecard]:
    now = now or utcnow()
    lo, hi = period(start, end, uow.calendar.zone)
    _, wf = uow.registry.active(uow.session, workflow)
    weights = ((wf.rules.get("scorecard") or {}).get("weights")) or DEFAULT_WEIGHTS
    count_reported_again = bool((wf.rules.get("not_fixed") or {}).get("reported_again_while_open"))
    parents = uow.store.directory.parents(uow.session)
    members = {u.id: (unit_subtree(uow.session, u.id, parents) if subunits else frozenset({u.id})) for u in units}
    unit_ids = sorted(set().union(*members.values())) if members else []
    tallies = _finding_tallies(uow, lo, hi, now, unit_ids, count_reported_again)
    for model, at, name in ((Sanction, Sanction.decided_at, "sanction"), (Commendation, Commendation.at,
                                                                          "commendation")):
        query = (sa.select(model.unit_id, sa.func.count(), sa.func.coalesce(sa.func.sum(model.points), 0))
                 .where(at >= lo, at < hi, model.unit_id.in_(unit_ids)).group_by(model.unit_id))
        for unit_id, count, points in uow.session.execute(query):
            tallies[unit_id] += Tally(**{f"{name}s": count, f"{name}_points": float(points)})
    for unit_id, credit in credit_by_unit(uow, lo, hi, unit_ids).items():  # 自查自纠 / 漏查
        tallies[unit_id] += Tally(**asdict(credit))
    for unit_id, (ratings, stars) in public.satisfaction_by_unit(uow, lo, hi, unit_ids).items():  # 满意度
        tallies[unit_id] += Tally(ratings=ratings, rating_sum=stars)
    config = loaded_config(uow)
    weight = config.public["satisfaction"] if config is not None else 0.0
    codes = dict(uow.session.execute(sa.select(Unit.id, Unit.code)).all())
    cards = []
    for u in units:
        tally = sum((tallies[i] for i in members[u.id]), Tally())
        tally = replace(tally, satisfaction_points=satisfaction_points(tally, weight))
        score = composite(tally, weights) if is_rated(tally) else None
        below = tuple(sorted(codes[i] for i in members[u.id] if i != u.id))
        cards.append(Scorecard(u.code, u.name, lo, hi, tally, rates(tally), score, subunits=below))
    return cards


def _finding_tallies(uow, lo, hi, now, unit_ids, count_reported_again) -> dict[int, Tally]:
    one = sa.literal(1)
    reported_again = sa.exists().where(FindingLink.earlier_id == Finding.id, FindingLink.earlier_open.is_(True))
    not_fixed = sa.or_(Finding.overdue_count > 0, reported_again) if count_reported_again \
        else Finding.overdue_count > 0
    query = (sa.select(
        Finding.unit_id, Finding.workflow_name, Finding.workflow_version, Finding.state, Finding.closed_on_time,
        sa.func.count(), sa.func.sum(Finding.failed_verifications),
        sa.func.sum(sa.case((Finding.due_at <= now, one), else_=0)),
        sa.func.sum(sa.case((not_fixed, one), else_=0)),
        sa.func.sum(sa.case((Finding.repeat_count > 0, one), else_=0)),
        sa.func.sum(sa.case((Finding.failed_verifications + Finding.reopenings > 0, one), else_=0)))
        .where(Finding.created_at >= lo, Finding.created_at < hi, Finding.unit_id.in_(unit_ids))
        .group_by(Finding.unit_id, Finding.workflow_name, Finding.workflow_version, Finding.state,
                  Finding.closed_on_time))
    tallies: dict[int, Tally] = defaultdict(Tally)
    for unit_id, name, version, state_name, on_time, n, failed, late, nf, rf, rx in uow.session.execute(query):
        state = uow.registry.get(uow.session, name, version).states[state_name]
        # Archived findings were closed first (closed_on_time set on closing); dismissed ones never were.
        closed = state.closed or (state.final and on_time is not None)
        dismissed = state.final and on_time is None
        is_open = not (state.closed or state.final)
        tallies[unit_id] += Tally(
            received=n, dismissed=n if dismissed else 0, closed=n if closed else 0,
            closed_on_time=n if closed and on_time else 0, open=n if is_open else 0,
            open_overdue=int(late or 0) if is_open else 0, failed_verifications=int(failed or 0),
            not_fixed=int(nf or 0), repeat_found=int(rf or 0), repeat_failed=int(rx or 0))
    return tallies

