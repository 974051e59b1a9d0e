"""What every `xuncha` command shares: the store, the operator's name, and one clear line for ordinary trouble."""
from __future__ import annotations

import getpass

import click
import sqlalchemy as sa

from engine.config import Settings
from engine.unit_of_work import Store

INIT_FIRST = "run `xuncha init` first"


def open_store() -> Store:
    store = Store.from_settings(Settings.from_env())
    # Close pooled connections when the command ends, not whenever the garbage collector gets to them.
    click.get_current_context().call_on_close(store.dispose)
    return store


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "admin"


def database_trouble(exc: sa.exc.SQLAlchemyError, url: str) -> str:
    """One line for a database error a user can act on: not initialised, unreachable, or a bad URL."""
    shown = sa.engine.make_url(url).render_as_string(hide_password=True) if "://" in url else url
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return f"the database at {shown} has no Xuncha tables yet: {INIT_FIRST}"
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return f"cannot use the database at {shown}: {text}"
    if isinstance(exc, (sa.exc.ArgumentError, sa.exc.NoSuchModuleError)):
        return f"XUNCHA_DATABASE_URL={shown} is not a database URL Xuncha can use: {text}"
    return f"database error at {shown}: {text}"


class Commands(click.Group):
    """The `xuncha` group: database trouble ends a command with one line and exit 1, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except sa.exc.SQLAlchemyError as exc:
            raise click.ClickException(database_trouble(exc, Settings.from_env().database_url)) from None

