"""Working-calendar use cases: closed and open days an administrator sets, and what a year's calendar will be."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from engine import audit
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import CalendarDay
from engine.unit_of_work import UnitOfWork
from engine.worktime import NationalYear, national_year

CALENDAR_ADMINS = ("admin",)
MAX_SPAN = 366  # days one change may cover
KIND_WORDS = {"closed": "closed", "open": "an open day"}


def parse_days(texts: list[str | date] | str) -> list[date]:
    """Days as an administrator writes them: YYYY-MM-DD, FIRST..LAST, or comma lists of either; sorted, unique."""
    if isinstance(texts, (str, date)):
        texts = [texts]
    days: set[date] = set()
    for item in texts:
        if isinstance(item, datetime) or not isinstance(item, (date, str)):
            raise InvalidFields({"days": f"{item!r} is not a day as YYYY-MM-DD"})
        if isinstance(item, date):
            days.add(item)
            continue
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            first, sep, last = part.partition("..")
            try:
                lo = date.fromisoformat(first.strip())
                hi = date.fromisoformat(last.strip()) if sep else lo
            except ValueError:
                raise InvalidFields({"days": f"{part!r}: expected YYYY-MM-DD or FIRST..LAST"}) from None
            if hi < lo or (hi - lo).days >= MAX_SPAN:
                raise InvalidFields({"days": f"{part!r}: a range runs forward and spans at most {MAX_SPAN} days"})
            days.update(lo + timedelta(days=i) for i in range((hi - lo).days + 1))
    if not days:
        raise InvalidFields({"days": "at least one day"})
    if len(days) > MAX_SPAN:
        raise InvalidFields({"days": f"at most {MAX_SPAN} days at once"})
    return sorted(days)


def close_days(uow: UnitOfWork, actor: Actor, days, note: str = "") -> list[CalendarDay]:
    """Close days (a vacation week); due times counted after the commit skip them, those set before stay."""
    return _set_days(uow, actor, parse_days(days), "closed", note)


def open_days(uow: UnitOfWork, actor: Actor, days, note: str = "") -> list[CalendarDay]:
    """Open days (调休上班: a weekend worked in exchange for a holiday); due times counted after the commit count
    them as working days with each calendar's working hours, those set before stay."""
    return _set_days(uow, actor, parse_days(days), "open", note)


def remove_days(uow: UnitOfWork, actor: Actor, days) -> list[CalendarDay]:
    """Give closed or open days back to the national calendar, from the commit on; returns the rows removed."""
    _require_calendar_admin(actor)
    wanted = parse_days(days)
    rows = list(uow.session.scalars(sa.select(CalendarDay).where(CalendarDay.day.in_(wanted))))
    missing = sorted(set(wanted) - {r.day for r in rows})
    if missing:
        raise NotFound("closed or open day", ", ".join(d.isoformat() for d in missing))
    for row in rows:
        audit.record_row(uow.session, "remove", actor, row, deleted=True)
        uow.session.delete(row)
    uow.after_commit(uow.store.refresh_calendar)
    return rows


def list_days(uow: UnitOfWork, since: date | None = None, until: date | None = None) -> list[CalendarDay]:
    """The closed and open days, by day."""
    query = sa.select(CalendarDay).order_by(CalendarDay.day)
    if since is not None:
        query = query.where(CalendarDay.day >= since)
    if until is not None:
        query = query.where(CalendarDay.day <= until)
    return list(uow.session.scalars(query))


@dataclass(frozen=True)
class YearDay:
    day: date
    kind: str  # holiday | workday (package) · closed | open (administrator)
    source: str  # "holidays <version>" or the administrator who set it
    note: str


@dataclass(frozen=True)
class YearCheck:
    """A year of the national calendar as the engine will count it."""

    national: NationalYear
    days: list[YearDay]  # by day; an administrator's day replaces the package's on the same date

    @property
    def official(self) -> bool:
        return self.national.official


def check_year(uow: UnitOfWork, year: int) -> YearCheck:
    """Whether the `holidays` package's data for `year` is the published schedule or an estimate, and the days
    off and make-up working days the calendars will use: the package's, then the administrator's over them."""
    if not 1950 <= year <= 2100:  # the years the package computes China's calendar for
        raise InvalidFields({"year": "between 1950 and 2100"})
    national = national_year(year)
    source = f"holidays {national.package_version}"
    days = {d: YearDay(d, "holiday", source, name) for d, name in national.days_off}
    days.update({d: YearDay(d, "workday", source, "调休上班") for d in national.make_up_days})
    for row in list_days(uow, date(year, 1, 1), date(year, 12, 31)):
        days[row.day] = YearDay(row.day, row.kind, row.created_by, row.note)
    return YearCheck(national, [days[d] for d in sorted(days)])


def _set_days(uow: UnitOfWork, actor: Actor, days: list[date], kind: str, note: str) -> list[CalendarDay]:
    _require_calendar_admin(actor)
    note = (note or "").strip()
    if len(note) > 200:
        raise InvalidFields({"note": "at most 200 characters"})
    taken = uow.session.execute(sa.select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.day.in_(days))).all()
    if taken:
        listed = ", ".join(f"{d.isoformat()} is {KIND_WORDS[k]} already" for d, k in sorted(taken))
        raise InvalidFields({"days": f"{listed}; remove it first to change it"})
    now = utcnow()
    rows = [CalendarDay(day=d, kind=kind, note=note, created_by=actor.name, created_at=now) for d in days]
    uow.session.add_all(rows)
    try:
        uow.session.flush()
    except sa.exc.IntegrityError:  # another administrator set one of them since the check above
        raise InvalidFields({"days": "one of these days was set meanwhile; list them and try again"}) from None
    for row in rows:
        audit.record_row(uow.session, "close" if kind == "closed" else "open", actor, row)
    uow.after_commit(uow.store.refresh_calendar)
    return rows


def _require_calendar_admin(actor: Actor) -> None:
    if not any(role in CALENDAR_ADMINS for role in actor.roles):
        raise NotAllowed(f"{actor.name} may not change the working calendar; it needs one of: "
                         f"{', '.join(CALENDAR_ADMINS)}", CALENDAR_ADMINS)
