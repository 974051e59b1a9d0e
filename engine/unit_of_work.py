"""One use case, one transaction: the unit of work owns the session, commit and rollback."""
from __future__ import annotations

import os
import time

import sqlalchemy as sa
from sqlalchemy import orm

from engine.config import Settings
from engine.db import make_engine, session_factory
from engine.directory import Directory
from engine.models import ClosedDay
from engine.registry import WorkflowRegistry
from engine.worktime import WorkCalendar

CALENDAR_TTL = 60.0  # seconds; web workers see closed days added elsewhere (`xuncha calendar add`) this soon


class Store:
    """Everything bound to one database: its engine, session factory, compiled workflows, calendar."""

    def __init__(self, database_url: str, *, instance=None, calendar: WorkCalendar | None = None, **engine_kw):
        self.url = database_url
        self.engine = make_engine(database_url, **engine_kw)
        self.sessions = session_factory(self.engine)
        # Same pool; SQLite takes its write lock at BEGIN for these sessions (see engine.db).
        self.write_sessions = session_factory(self.engine.execution_options(xuncha_write=True))
        self.registry = WorkflowRegistry()
        self.directory = Directory()
        self.base_calendar = calendar or WorkCalendar.from_settings(os.environ.get("XUNCHA_WORK_HOURS"),
                                                                    os.environ.get("XUNCHA_TIMEZONE"))
        self.instance = instance
        self._calendar, self._calendar_read = self.base_calendar, float("-inf")  # read on first use

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url, instance=settings.instance)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar; closed days another process added are seen within CALENDAR_TTL."""
        if time.monotonic() - self._calendar_read > CALENDAR_TTL:
            self.refresh_calendar()
        return self._calendar

    def refresh_calendar(self) -> None:
        """The base calendar plus the closed days stored in the database (none before it is migrated)."""
        base = self.base_calendar
        try:
            with self.sessions() as session:
                days = set(session.scalars(sa.select(ClosedDay.day)))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            days = set()
        self._calendar = WorkCalendar(base.tz, base.periods, base.closed_days | days, base.open_days - days)
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
        self._after_close: list = []

    @property
    def registry(self) -> WorkflowRegistry:
        return self.store.registry

    @property
    def calendar(self) -> WorkCalendar:
        return self.store.calendar

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
