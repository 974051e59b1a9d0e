"""`xuncha serve`: the embedded server's defaults and options."""
from __future__ import annotations

from click.testing import CliRunner
from werkzeug import serving

from engine.migrations import upgrade
from web.cli import main


def test_serve_runs_the_app_threaded_on_localhost_by_default(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setenv("XUNCHA_INSTANCE", str(tmp_path))
    monkeypatch.setenv("XUNCHA_DATABASE_URL", f"sqlite:///{tmp_path / 'xuncha.db'}")
    upgrade(f"sqlite:///{tmp_path / 'xuncha.db'}")  # `xuncha init` ran: serve refuses an uninitialised database
    monkeypatch.setattr(serving, "run_simple", lambda host, port, app, **kw: calls.append((host, port, app, kw)))
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    assert CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8080"]).exit_code == 0
    (host, port, app, options), (host2, port2, _, _) = calls
    assert (host, port, host2, port2) == ("127.0.0.1", 5000, "0.0.0.0", 8080)
    assert options["threaded"] is True and options["use_debugger"] is False
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200
    for app_ in (app, calls[1][2]):
        app_.extensions["xuncha.store"].dispose()
    assert CliRunner().invoke(main, ["serve", "--port", "70000"]).exit_code == 2
