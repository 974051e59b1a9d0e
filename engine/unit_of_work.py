"""One use case, one transaction: the unit of work owns the session, commit and rollback."""
from __future__ import annotations

from sqlalchemy import orm

from engine.config import Settings
from engine.db import make_engine, session_factory
from engine.registry import WorkflowRegistry
from engine.worktime import WorkCalendar


class Store:
    """Everything bound to one database: its engine, session factory, compiled workflows, calendar."""

    def __init__(self, database_url: str, *, instance=None, calendar: WorkCalendar | None = None, **engine_kw):
        self.url = database_url
        self.engine = make_engine(database_url, **engine_kw)
        self.sessions = session_factory(self.engine)
        self.registry = WorkflowRegistry()
        self.calendar = calendar or WorkCalendar()
        self.instance = instance

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url, instance=settings.instance)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

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
        self.session = self.store.sessions()
        if self.write:
            # SQLite takes its write lock at BEGIN (see engine.db); other backends ignore the option.
            self.session.connection(execution_options={"xuncha_write": True})
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
