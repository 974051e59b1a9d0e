"""Render time of the finding list (with filters) and detail pages at growing sizes, on PostgreSQL or SQLite.

Findings are bulk-made as for the sweep benchmark (bench/sweep_data.py); pages are rendered through the Flask
test client by a signed-in inspector, so the figure covers routing, the session, the engine's queries and Jinja.
Prints median and p95 per page and size, and the ratio of the largest size to the smallest (target p95 < 100 ms).

    python bench/pages.py --db postgresql --sizes 100000 1000000
"""
from __future__ import annotations

import argparse
import contextlib
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sweep_data  # noqa: E402
from advance import pg_database  # noqa: E402

from engine import accounts  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402
from web import create_app  # noqa: E402

TARGET_P95_MS = 100.0
PASSWORD = "bench-password-1"
LISTS = {
    "list: default": "/findings",
    "list: state+unit, by due": "/findings?state=rectifying&state=verifying&unit=FOOD&sort=due_at",
    "list: overdue, page 5": "/findings?overdue=1&sort=-updated_at&page=5",
    "list: text found + dates": "/findings?q=kitchen&from=2020-01-01&to=2099-12-31",
    "list: text not found": "/findings?q=tiles",  # the worst case: every row read (ILIKE, no text index)
}


def timed(client, path: str, rounds: int) -> list[float]:
    client.get(path)  # warm: compiled workflow, caches, connection
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def measure(url: str, rounds: int) -> dict[str, list[float]]:
    store = Store(url)
    app = create_app({"STORE": store, "SECRET_KEY": "bench"})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"name": "inspector", "password": PASSWORD, "csrf_token": token})
    results = {name: timed(client, path, rounds) for name, path in LISTS.items()}
    with store.uow(write=False) as uow:
        top = uow.session.connection().exec_driver_sql("SELECT max(id) FROM findings").scalar()
    ids = random.Random(7).sample(range(1, top + 1), rounds)
    detail = []
    for finding_id in ids:
        start = time.perf_counter()
        response = client.get(f"/findings/{finding_id}")
        detail.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    results["detail (random ids)"] = detail
    store.dispose()
    return results


def run(db: str, sizes: list[int], rounds: int) -> None:
    server = pg_database("xuncha_bench_pages") if db == "postgresql" else contextlib.nullcontext()
    with tempfile.TemporaryDirectory(prefix="xuncha-pages-") as tmp, server as pg_url:
        url = pg_url or f"sqlite:///{tmp}/pages.db"
        upgrade(url)
        store = Store(url)
        sweep_data.prepare(store)
        with store.uow() as uow:
            accounts.set_password(uow, None, "inspector", PASSWORD)
            uow.commit()
        store.dispose()
        table = {}
        for size in sizes:
            added, seconds = sweep_data.grow(url, size, 0, utcnow() - timedelta(days=1))
            print(f"\n{size:,} findings stored ({added:,} added in {seconds:.0f} s); {rounds} renders per page")
            table[size] = measure(url, rounds)
            for name, values in table[size].items():
                flag = "" if p95(values) < TARGET_P95_MS else "  ABOVE TARGET"
                print(f"  {name:<28} median {statistics.median(values):7.1f} ms   p95 {p95(values):7.1f} ms{flag}")
        if len(sizes) > 1:
            small, big = sizes[0], sizes[-1]
            print(f"\nratio {big:,} vs {small:,} (p95):")
            for name in table[small]:
                print(f"  {name:<28} x{p95(table[big][name]) / p95(table[small][name]):.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    run(args.db, sorted(args.sizes), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
