"""Settings from the environment, with the embedded defaults a new user gets."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def instance_path() -> Path:
    return Path(os.environ.get("XUNCHA_INSTANCE", Path.cwd() / "instance")).resolve()


@dataclass
class Settings:
    database_url: str = ""
    workflows_file: str = ""
    instance: Path = field(default_factory=instance_path)

    @classmethod
    def from_env(cls) -> Settings:
        instance = instance_path()
        return cls(
            database_url=os.environ.get("XUNCHA_DATABASE_URL") or f"sqlite:///{instance / 'xuncha.db'}",
            workflows_file=os.environ.get("XUNCHA_WORKFLOWS") or str(Path.cwd() / "workflows.yaml"),
            instance=instance,
        )
