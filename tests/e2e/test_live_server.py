"""`xuncha serve` as a user runs it: a real server process on a real port, sweeping overdue findings."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from engine import services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - a localhost URL we built
        return json.loads(response.read().decode("utf-8"))


def test_served_api_answers_over_http_and_its_sweep_escalates_overdue_findings(campus, db_url, tmp_path):
    with campus.store.uow() as uow:
        finding = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title="锅炉房值班记录缺失", category="劳动纪律", location="锅炉房", unit="ENERGY"),
            now=datetime.now(UTC) - timedelta(days=10))
        uow.commit()
    port = _free_port()
    env = {**os.environ, "XUNCHA_DATABASE_URL": db_url, "XUNCHA_INSTANCE": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "serve", "--port", str(port),
         "--sweep-every", "0.2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            try:
                body = _get(f"{base}/findings/{finding.id}", campus.tokens["inspector"])
            except OSError:
                body = None  # not listening yet
            if body and body["state"]["name"] == "escalated":
                break
            time.sleep(0.2)
        assert body is not None, "the server never answered"
        assert body["title"] == "锅炉房值班记录缺失"
        assert body["state"]["name"] == "escalated", body["state"]
        history = _get(f"{base}/findings/{finding.id}/history", campus.tokens["auditor"])
        assert [(r["event"], r["actor"]) for r in history] == [("report", "inspector"), ("escalate", "system")]
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
