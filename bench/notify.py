"""The notification deliverer: throughput against a local webhook receiver, and memory while draining 10^5.

    python bench/notify.py [--db sqlite|postgresql] [--count 1000] [--sizes 10000,100000] [--rounds 3]

1. Throughput: N messages queued for a webhook channel, drained by one Deliverer (claim under a lease, send,
   record every attempt), against a bare loop of `requests` posts of the same signed bodies to the same
   receiver, which runs in its own process; interleaved over rounds, medians printed, and their ratio.
2. Flat memory: a fresh process drains 10^4 and then 10^5 queued messages (the file channel, so the database
   work is measured, not the network); the ratio of their peak resident memory should stay near 1.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import sqlalchemy as sa

from engine.migrations import upgrade
from engine.notify import routing
from engine.notify.channels import Outgoing
from engine.notify.channels.webhook import ID_HEADER, SIGNATURE_HEADER, body_of, signature
from engine.notify.deliverer import Deliverer
from engine.notify.models import OutboxMessage
from engine.unit_of_work import Store

KEY = "bench-key"
PG_ADMIN = os.environ.get("XUNCHA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def receive(port: int, ready) -> None:
    """A webhook receiver answering 200 to every POST (its own process, so it competes for no GIL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def queue(url: str, count: int, channel: str) -> None:
    """Bulk-insert `count` pending messages (as the rules would queue them) with Core, in chunks."""
    store, now = Store(url), datetime.now(UTC)
    table = OutboxMessage.__table__
    with store.engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(sa.insert(table), [
                {"message_id": str(uuid.uuid4()), "kind": "reminder", "essential": False, "recipient": "centre of FOOD",
                 "channel": channel, "address": None, "subject": f"【整改提醒】#{i} 二食堂餐具回收处异味明显",
                 "body": f"巡查问题 #{i}「二食堂餐具回收处异味明显」已交办期限将至：2026-03-04 09:00\n地点：二食堂",
                 "data": {"finding": {"id": i}}, "status": "pending", "attempts": 0, "next_attempt_at": now,
                 "created_at": now} for i in range(start, min(count, start + 5000))])
    store.dispose()


def config(hook: str, base: Path) -> routing.Config:
    return routing.parse(f"channels:\n  hook: {{type: webhook, url: '{hook}', secret: {KEY}}}\n"
                         f"  sink: {{type: file, path: sink.log}}\n"
                         f"deliver: {{batch: 200, timeout: 10}}\n", base=base)


def fresh_database(pg: str | None, folder: Path, name: str) -> str:
    if pg is None:
        url = f"sqlite:///{folder / name}.db"
    else:
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        database = f"xuncha_bench_{name}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        admin.dispose()
        url = sa.engine.make_url(pg).set(database=database).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop(pg: str | None, url: str) -> None:
    if pg is not None:
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)')
        admin.dispose()


def throughput(pg: str | None, folder: Path, count: int, hook: str, rounds: int = 3) -> None:
    """Medians of `rounds` interleaved runs of each, so that a burst of load on a shared machine hits both alike."""
    ours_runs, bare_runs = [], []
    for _ in range(rounds):
        ours_runs.append(_deliverer_rate(pg, folder, count, hook))
        bare_runs.append(_bare_rate(count, hook))
    ours, bare = statistics.median(ours_runs), statistics.median(bare_runs)
    print(f"throughput ({'PostgreSQL' if pg else 'SQLite'}, {count} messages, median of {rounds}): deliverer "
          f"{ours:,.0f}/s vs bare posts {bare:,.0f}/s: ratio {ours / bare:.2f}", flush=True)


def _deliverer_rate(pg: str | None, folder: Path, count: int, hook: str) -> float:
    url = fresh_database(pg, folder, "throughput")
    queue(url, count + 50, "hook")
    store = Store(url)
    deliverer = Deliverer(store, config(hook, folder))
    deliverer.run_once(limit=50)  # warm up: connections, the channel's session
    started = time.perf_counter()
    report = deliverer.run_once()
    rate = report.sent / (time.perf_counter() - started)
    store.dispose()
    drop(pg, url)
    return rate


def _bare_rate(count: int, hook: str) -> float:
    http = requests.Session()
    message = Outgoing(str(uuid.uuid4()), "reminder", "【整改提醒】#1 二食堂餐具回收处异味明显", "巡查问题 #1 ……")
    http.post(hook, data=b"{}", timeout=10)
    started = time.perf_counter()
    for _ in range(count):
        body = body_of(message)
        answer = http.post(hook, data=body, timeout=10, headers={
            "Content-Type": "application/json; charset=utf-8", ID_HEADER: message.message_id,
            SIGNATURE_HEADER: signature(KEY, body)})
        assert answer.status_code == 200
    return count / (time.perf_counter() - started)


def drain_child(url: str, folder: str) -> None:
    """In a fresh process: drain the outbox through the file channel; print seconds and peak RSS (KiB)."""
    store = Store(url)
    started = time.perf_counter()
    report = Deliverer(store, config("http://127.0.0.1:9", Path(folder))).run_once()
    print(report.sent, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def memory(pg: str | None, folder: Path, sizes: tuple[int, ...]) -> None:
    peaks = []
    for size in sizes:
        url = fresh_database(pg, folder, f"drain{size}")
        queue(url, size, "sink")
        out = subprocess.run([sys.executable, __file__, "--drain-child", url, str(folder)], capture_output=True,
                             text=True, check=True).stdout.split()
        sent, seconds, peak = int(out[0]), float(out[1]), int(out[2])
        assert sent == size, (sent, size)
        peaks.append(peak)
        print(f"drain {size:>7,} messages: {seconds:6.1f} s ({size / seconds:,.0f}/s), peak RSS {peak / 1024:.1f} MiB",
              flush=True)
        drop(pg, url)
    print(f"peak RSS ratio {sizes[-1]:,} vs {sizes[0]:,}: {peaks[-1] / peaks[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=1000, help="messages for the throughput runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000", help="queued messages for the memory runs")
    parser.add_argument("--drain-child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain_child:
        drain_child(*args.drain_child)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(target=receive, args=(port, ready), daemon=True)
    receiver.start()
    ready.wait(10)
    pg = PG_ADMIN if args.db == "postgresql" else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            throughput(pg, Path(tmp), args.count, f"http://127.0.0.1:{port}/hook", args.rounds)
            if args.sizes:  # --sizes "": throughput only
                memory(pg, Path(tmp), tuple(int(s) for s in args.sizes.split(",")))
    finally:
        receiver.terminate()


if __name__ == "__main__":
    main()
