"""Run the API on one machine (the embedded SQLite default), with the hook for background jobs."""
from __future__ import annotations

from flask import Flask


def start_background(app: Flask) -> None:
    """Hook for work beside the requests; the overdue sweeper (engine.timers.sweep_overdue) is started here.

    Exactly one sweeper may run per database, so under gunicorn it belongs in a separate process, not here.
    """


def run(app: Flask, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Werkzeug's threaded server: enough for one campus office; production runs gunicorn (see README)."""
    from werkzeug.serving import run_simple

    start_background(app)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
