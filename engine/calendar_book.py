"""The calendars due times are counted on, as one process sees them: office, the named ones, units' defaults."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from engine.worktime import WorkCalendar
from workflows.calendars import OFFICE, CalendarSpec
from workflows.model import State, Workflow


class CalendarBook:
    """One reading of the administrator's closed and open days and of units' default calendars, with the working
    calendars built on it. A book never changes: the Store swaps in a new one when it reads again."""

    def __init__(self, base: WorkCalendar, closed: Iterable[date] = (), opened: Iterable[date] = (),
                 unit_calendars: dict[int, str] | None = None):
        self.base = base
        closed, opened = frozenset(closed), frozenset(opened)
        # The database wins over days the base calendar was built with (settings, tests).
        self.closed = (base.closed_days - opened) | closed
        self.opened = (base.open_days - closed) | opened
        self.unit_calendars = dict(unit_calendars or {})
        self.office = WorkCalendar(base.tz, base.periods, self.closed, self.opened, base.days)
        self._named: dict[tuple, WorkCalendar] = {}

    def with_units(self, unit_calendars: dict[int, str | None]) -> CalendarBook:
        """This book with some units' defaults changed (a transaction that set them sees its own change)."""
        book = object.__new__(CalendarBook)
        book.__dict__.update(self.__dict__)
        book.unit_calendars = {**self.unit_calendars, **unit_calendars}
        return book

    def named(self, spec: CalendarSpec) -> WorkCalendar:
        """The working calendar a configured spec describes, with this book's days where it follows the nation."""
        key = (spec.periods, spec.days)
        calendar = self._named.get(key)
        if calendar is None:
            days = ((), ()) if spec.days == "all" else (self.closed, self.opened)
            calendar = self._named[key] = WorkCalendar(self.base.tz, spec.periods, *days, days=spec.days)
        return calendar

    def resolve(self, workflow: Workflow, name: str | None) -> tuple[str, WorkCalendar]:
        """The calendar called `name` in the workflow's file; office for None, office or a name it lacks (a unit's
        default that an older workflow version does not define)."""
        spec = workflow.calendars.get(name) if name else None
        if spec is None:
            return OFFICE, self.office
        return name, self.named(spec)

    def for_state(self, workflow: Workflow, state: State, unit_id: int) -> tuple[str, WorkCalendar, WorkCalendar]:
        """Which calendar a state's due time is counted on — the one its `due` names, else the unit's default, else
        office — that calendar, and the one its reminder is counted back on (its own, else the due's)."""
        named = state.due.calendar if state.due and state.due.calendar else self.unit_calendars.get(unit_id)
        name, on_due = self.resolve(workflow, named)
        remind = state.remind_before
        on_remind = self.resolve(workflow, remind.calendar)[1] if remind and remind.calendar else on_due
        return name, on_due, on_remind
