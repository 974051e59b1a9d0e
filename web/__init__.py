"""The HTTP face of Xuncha: `create_app` builds the Flask application."""
from __future__ import annotations

from flask import Flask

from engine.config import Settings
from engine.unit_of_work import Store


def create_app(config: dict | None = None) -> Flask:
    """Application factory; `config` overrides settings (tests pass DATABASE_URL, STORE, ...)."""
    app = Flask(__name__, instance_path=str(Settings.from_env().instance))
    settings = Settings.from_env()
    app.config.update(DATABASE_URL=settings.database_url, WORKFLOWS=settings.workflows_file)
    app.config.update(config or {})
    app.extensions["xuncha.store"] = app.config.get("STORE") or Store(app.config["DATABASE_URL"],
                                                                       instance=settings.instance)
    return app
