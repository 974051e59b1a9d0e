"""Settings from the environment, with the embedded defaults a new user gets."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_DAYS = 180


def token_days() -> int:
    """How long a new or rotated API token lives (XUNCHA_TOKEN_DAYS, default 180 days)."""
    text = os.environ.get("XUNCHA_TOKEN_DAYS", "").strip()
    if not text:
        return TOKEN_DAYS
    if not text.isdigit() or not 1 <= int(text) <= 36500:
        raise ValueError(f"XUNCHA_TOKEN_DAYS={text!r}: expected a whole number of days from 1 to 36500")
    return int(text)


def instance_path() -> Path:
    return Path(os.environ.get("XUNCHA_INSTANCE", Path.cwd() / "instance")).resolve()


def database_url(url: str) -> str:
    """The URL as SQLAlchemy takes it: `postgres://` and `postgresql://` (as hosting panels and libpq write
    them) mean PostgreSQL through psycopg 3, the driver Xuncha installs."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


@dataclass
class Settings:
    database_url: str = ""
    workflows_file: str = ""
    instance: Path = field(default_factory=instance_path)

    @classmethod
    def from_env(cls) -> Settings:
        instance = instance_path()
        return cls(
            database_url=database_url(os.environ.get("XUNCHA_DATABASE_URL") or f"sqlite:///{instance / 'xuncha.db'}"),
            workflows_file=os.environ.get("XUNCHA_WORKFLOWS") or str(Path.cwd() / "workflows.yaml"),
            instance=instance,
        )
