"""SQLite writers queue for the write lock by trying every millisecond (engine.db._begin_immediate), not by
SQLite's own backoff: a writer gets the lock once the holder is done, gives up with "database is locked" after
the busy timeout, and leaves the connection's own busy timeout as it was for everything else."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from engine import db
from engine.models import Unit


def sqlite_only(store):
    if store.dialect != "sqlite":
        pytest.skip("the write lock at BEGIN is SQLite's; PostgreSQL locks rows")


def add_unit(store, code: str) -> None:
    with store.uow() as uow:
        uow.session.add(Unit(code=code, name=f"单位{code}"))
        uow.commit()


def codes(store) -> set[str]:
    with store.uow(write=False) as uow:
        return set(uow.session.scalars(sa.select(Unit.code)))


def test_a_waiting_writer_polls_and_writes_once_the_holder_commits(store, monkeypatch):
    sqlite_only(store)
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 10.0)  # a failure below ends in seconds, not the default 30 s
    polls = []
    real_sleep = db.time.sleep
    monkeypatch.setattr(db.time, "sleep", lambda seconds: (polls.append(seconds), real_sleep(seconds)))
    done = threading.Event()
    errors: list[BaseException] = []

    def wait_and_write():
        try:
            add_unit(store, "NEXT")
        except BaseException as exc:  # the test reports it below
            errors.append(exc)
        done.set()

    worker = threading.Thread(target=wait_and_write, daemon=True)
    with store.uow() as holder:
        holder.session.add(Unit(code="HOLD", name="占用"))
        holder.session.flush()  # the write lock is now held
        worker.start()
        waited = not done.wait(0.3)
        holder.commit()
    worker.join(10)
    assert waited, f"the second writer did not wait for the lock: {errors}"
    assert done.is_set() and not errors, errors
    assert polls and set(polls) == {db.BUSY_POLL}, "the writer did not poll for the lock itself"
    assert {"HOLD", "NEXT"} <= codes(store)


def test_a_writer_gives_up_after_the_busy_timeout_and_changes_nothing(store, monkeypatch):
    sqlite_only(store)
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.2)
    with store.uow() as holder:
        holder.session.add(Unit(code="HOLD", name="占用"))
        holder.session.flush()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            add_unit(store, "LATE")
    assert "LATE" not in codes(store) and "HOLD" not in codes(store)  # the holder never committed
    add_unit(store, "AFTER")  # the lock is free again, and the connection that failed is usable
    assert "AFTER" in codes(store)


def test_the_connection_keeps_its_busy_timeout_for_other_statements(store):
    sqlite_only(store)
    with store.uow() as uow:
        uow.session.add(Unit(code="ANY", name="任意"))
        uow.session.flush()
        timeout = uow.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout == int(db.BUSY_TIMEOUT * 1000)
