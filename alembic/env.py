"""Alembic environment: metadata from engine.db, URL from the caller or XUNCHA_DATABASE_URL."""
from logging.config import fileConfig

import engine.models  # noqa: F401 - registers every table on Base.metadata
import engine.notify.models  # noqa: F401 - the outbox tables
from alembic import context
from engine.config import Settings
from engine.db import Base, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    db = make_engine(_url())
    try:
        with db.connect() as conn:
            _run(conn)
    finally:
        db.dispose()


def _include(obj, name, type_, reflected, compare_to) -> bool:
    # PostgreSQL's trigram indexes (migration 0013) have no place in the dialect-neutral models.
    return not (type_ == "index" and reflected and compare_to is None and (name or "").endswith("_trgm"))


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
