"""A webhook receiver on loopback for the notification tests: records each POST, answers as told."""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Receiver:
    """`with Receiver() as r: r.url ...`; `answers` is a list of status codes used in turn (then 200)."""

    def __init__(self, answers=None, reply: dict | None = None):
        self.received: list[Received] = []
        self.answers = list(answers or [])
        self.always: int | None = None
        self.reply = json.dumps(reply or {"errcode": 0, "errmsg": "ok"}, ensure_ascii=False).encode()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()  # headers and body leave in two writes: without this, Nagle meets delayed ACK
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                with receiver.lock:
                    receiver.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers), body))
                    status = receiver.always or (receiver.answers.pop(0) if receiver.answers else 200)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers.get("X-Xuncha-Message-Id") for r in self.received]
