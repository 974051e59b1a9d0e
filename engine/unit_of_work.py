"""One use case, one transaction: the unit of work owns the session, commit and rollback."""
from __future__ import annotations

import os
import time

import sqlalchemy as sa
from sqlalchemy import orm

from engine.audit.keys import KeyRing
from engine.calendar_book import CalendarBook
from engine.config import Settings
from engine.db import make_engine, session_factory
from engine.directory import Directory
from engine.models import CalendarDay, Unit
from engine.principals import Principals
from engine.registry import WorkflowRegistry
from engine.worktime import WorkCalendar

# Seconds; web workers see closed and open days and units' calendars changed elsewhere (`xuncha calendar ...`,
# `xuncha unit set`) this soon.
CALENDAR_TTL = 60.0


class Store:
    """Everything bound to one database: its engine, session factory, compiled workflows, calendar."""

    def __init__(self, database_url: str, *, instance=None, calendar: WorkCalendar | None = None,
                 audit_keys: KeyRing | None = None, **engine_kw):
        self.url = database_url
        self.engine = make_engine(database_url, **engine_kw)
        # The audit key ring rides on every session (engine.audit signs rows with it); it is never stored.
        self.audit_keys = audit_keys if audit_keys is not None else KeyRing.from_env()
        info = {"audit_keys": self.audit_keys}
        self.sessions = session_factory(self.engine, info=info)
        # Same pool; SQLite takes its write lock at BEGIN for these sessions (see engine.db).
        self.write_sessions = session_factory(self.engine.execution_options(xuncha_write=True), info=info)
        self.registry = WorkflowRegistry()
        self.directory = Directory()
        self.principals = Principals()  # bearer tokens' users, for a few seconds (engine.users.principal)
        self.base_calendar = calendar or WorkCalendar.from_settings(os.environ.get("XUNCHA_WORK_HOURS"),
                                                                    os.environ.get("XUNCHA_TIMEZONE"))
        self.instance = instance
        self._book, self._calendar_read = CalendarBook(self.base_calendar), float("-inf")  # read on first use

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url, instance=settings.instance)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def calendar(self) -> WorkCalendar:
        """The office calendar; closed and open days another process added are seen within CALENDAR_TTL."""
        return self.calendars.office

    @property
    def calendars(self) -> CalendarBook:
        """Every working calendar and units' defaults; changes made elsewhere are seen within CALENDAR_TTL."""
        if time.monotonic() - self._calendar_read > CALENDAR_TTL:
            self.refresh_calendar()
        return self._book

    def refresh_calendar(self) -> None:
        """Read the closed and open days and units' default calendars again (none before it is migrated)."""
        try:
            with self.sessions() as session:
                days = session.execute(sa.select(CalendarDay.day, CalendarDay.kind)).all()
                units = dict(session.execute(
                    sa.select(Unit.id, Unit.calendar).where(Unit.calendar.is_not(None))).all())
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            days, units = [], {}
        self._book = CalendarBook(self.base_calendar, {d for d, kind in days if kind == "closed"},
                                  {d for d, kind in days if kind == "open"}, units)
        self._calendar_read = time.monotonic()

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self, write)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """`with store.uow() as uow: ...; uow.commit()` — leaving without commit rolls everything back."""

    def __init__(self, store: Store, write: bool = True):
        self.store = store
        self.write = write
        self.session: orm.Session | None = None
        self._after_commit: list = []
        self._unit_calendars: dict[int, str | None] = {}  # set in this transaction, not yet in the store's book
        self._book: tuple[CalendarBook, CalendarBook] | None = None
        self.memo: dict = {}  # what a use case reads repeatedly and no transaction changes (place configuration)
        self._after_close: list = []

    @property
    def registry(self) -> WorkflowRegistry:
        return self.store.registry

    @property
    def calendar(self) -> WorkCalendar:
        return self.store.calendar

    @property
    def calendars(self) -> CalendarBook:
        book = self.store.calendars
        if not self._unit_calendars:
            return book
        if self._book is None or self._book[0] is not book:
            self._book = (book, book.with_units(self._unit_calendars))
        return self._book[1]

    def unit_calendar_changed(self, unit_id: int, calendar: str | None) -> None:
        """Count this unit's due times on `calendar` for the rest of this transaction, and everywhere once
        committed (this process at once, others within CALENDAR_TTL)."""
        self._unit_calendars[unit_id] = calendar
        self._book = None
        self.after_commit(self.store.refresh_calendar)

    @property
    def dialect(self) -> str:
        return self.store.dialect

    def __enter__(self) -> UnitOfWork:
        self.session = (self.store.write_sessions if self.write else self.store.sessions)()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            callbacks, self._after_close = self._after_close, []
            for callback in callbacks:
                callback()

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        self._unit_calendars, self._book = {}, None  # the store's book has them once refreshed
        for callback in callbacks:
            callback()

    def after_commit(self, callback) -> None:
        """Run `callback` once this unit of work has committed (never, if it rolls back)."""
        self._after_commit.append(callback)

    def after_close(self, callback) -> None:
        """Run `callback` when this unit of work ends, committed or not (to clean up what it did not keep)."""
        self._after_close.append(callback)

    def rollback(self) -> None:
        self.session.rollback()
        self._unit_calendars, self._book = {}, None
