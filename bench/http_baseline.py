"""The HTTP baseline for bench/http_api.py: a bare Flask endpoint doing a transition's writes with the raw driver.

    XUNCHA_DATABASE_URL=... gunicorn -w 2 -b 127.0.0.1:PORT 'bench.http_baseline:create_app()'   (cwd: the repo)

No authentication, no schemas, no workflow: per POST it runs exactly the statements of
bench/contenders.py RawContender (BEGIN [IMMEDIATE], SELECT [FOR UPDATE], UPDATE findings, INSERT audit_log
with the sha256 chain hash, the effects and, with an audit key in the environment, its id and the row's MAC,
COMMIT) for the CYCLE step the body names, and answers {id, state}.
"""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from flask import Flask, abort, jsonify, request

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # gunicorn imports this as bench.http_baseline; contenders lives beside it

import contenders  # noqa: E402


def cycle_step(event: str, payload: dict) -> int:
    """The CYCLE index whose event and payload the body carries (its writes are the ones RAW_STEPS lists)."""
    for s, (name, body, _who) in enumerate(contenders.CYCLE):
        if name == event and body == payload:
            return s
    abort(422, f"{event} {payload} is no step of the bench cycle")


def create_app() -> Flask:
    url = os.environ["XUNCHA_DATABASE_URL"]
    app = Flask(__name__)
    local = threading.local()  # one driver connection per serving thread (sqlite3 connections stay in theirs)

    def contender() -> contenders.RawContender:
        racer = getattr(local, "racer", None)
        if racer is None:
            racer = local.racer = contenders.RawContender(url, [0])
        return racer

    @app.post("/api/v1/findings/<int:finding_id>/transitions")
    def transition(finding_id: int):
        body = request.get_json()
        s = cycle_step(body["event"], body.get("payload") or {})
        racer = contender()
        # RawContender.run(1) with a single finding at k = s performs CYCLE step s on that finding.
        racer.ids, racer.k = [finding_id], s
        racer.run(1)
        return jsonify(id=finding_id, state=contenders.RAW_STEPS[s][1])

    @app.get("/health")
    def health():
        return jsonify(ok=True)

    return app
