"""A real server process on a free port for tests that need real sockets (`xuncha serve` or gunicorn)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, token: str | None = None, *, method: str = "GET", body: dict | None = None, timeout: float = 10):
    """(status, JSON body) of one request; HTTP errors are answers too."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode("utf-8"), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a localhost URL
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@contextmanager
def live_server(db_url: str, instance: Path, command: list[str] | None = None, port: int | None = None):
    """Run `xuncha serve` (or `command`, with {port} filled in) and yield its /api/v1 base URL once it answers."""
    port = port or free_port()
    env = {**os.environ, "XUNCHA_DATABASE_URL": db_url, "XUNCHA_INSTANCE": str(instance)}
    argv = [part.format(port=port) for part in command] if command else [
        sys.executable, "-c", "from web.cli import main; main()", "serve", "--port", str(port), "--sweep-every", "0"]
    # The server logs every request: to a file, since a pipe nobody reads fills up and stalls the server.
    log = (instance / "server.log").open("w+b")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(f"{base}/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(f"the server did not start: {log.read().decode(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
