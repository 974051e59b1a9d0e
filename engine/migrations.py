"""Run the Alembic migrations (used by `xuncha init` and the tests), from a checkout or an installed package."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.config import Config

from alembic import command

ROOT = Path(__file__).resolve().parent.parent


def scripts_dir() -> Path:
    """The migration scripts: alembic/ beside the packages in a checkout, else the installed xuncha_migrations."""
    if (ROOT / "alembic" / "env.py").is_file():
        return ROOT / "alembic"
    spec = importlib.util.find_spec("xuncha_migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations are not installed: reinstall xuncha")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(url: str) -> Config:
    ini = ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(scripts_dir()))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def is_current(url: str) -> bool:
    """Whether the database is migrated to this version's head (a fresh or older database is not)."""
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads()) == heads
    finally:
        engine.dispose()


def check(url: str) -> None:
    """Raise alembic.util.CommandError when the models and the migrated database differ."""
    command.check(alembic_config(url))
