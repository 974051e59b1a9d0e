"""Advances per second through engine.services.advance against a raw-driver baseline and django-fsm-2.

    python bench/advance.py [--db sqlite|postgresql|both] [--n 2000] [--rounds 5] [--findings 64]
    python bench/advance.py --memory [--db ...] [--k 2000]     worker RSS with 10^4 vs 10^6 stored findings
    python bench/advance.py --profile [--db ...] [--n 2000]    where an engine advance spends its time

Each contender has its own findings in `rectifying` and drives them through the same five-step cycle
(rectify, verify fail, rectify, verify pass, reopen), one transaction per advance. The engine and the raw
baseline share one migrated database (same tables, indexes and triggers); the peer gets a database of its own
on the same server. Contenders take turns in every round (the machine is shared and noisy); medians are reported.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # peer_django and the helper modules live beside this script

import contenders  # noqa: E402

from engine import audit  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

PG_SERVER = os.environ.get("XUNCHA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGETS = {"postgresql": 0.60, "sqlite": 0.30}  # engine / raw (issue 13)
PEER_TARGET = 1.5  # engine / peer


@contextmanager
def pg_database(prefix: str):
    """A fresh PostgreSQL database on the bench server, dropped afterwards; yields its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield sa.engine.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@contextmanager
def databases(db: str):
    """(engine URL, Django DATABASES entry) for one backend, created fresh and removed afterwards."""
    from peer_django import contender as peer

    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="xuncha-bench-") as tmp:
            yield f"sqlite:///{tmp}/engine.db", peer.sqlite_db(f"{tmp}/peer.db")
        return
    with pg_database("xuncha_bench") as url, pg_database("xuncha_bench_peer") as peer_url:
        u = sa.engine.make_url(peer_url)
        yield url, peer.postgresql_db(u.database, u.host, u.port or 5432, u.username, u.password)


class PeerContender:
    name = "peer"

    def __init__(self, count: int):
        from peer_django.contender import Peer

        self.peer, self.count, self.k = Peer(count), count, 0

    def run(self, n: int) -> None:
        peer, count = self.peer, self.count
        for k in range(self.k, self.k + n):
            index, s = contenders.step(k, count)
            event, payload, who = contenders.CYCLE[s]
            peer.advance(index, event, payload, None, who)
        self.k += n

    def close(self) -> None:
        from peer_django import contender as peer

        peer.close()


def server_version(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar()
        else:
            version = conn.exec_driver_sql("show server_version").scalar().split()[0]
            version = f"PostgreSQL {version}"
    engine.dispose()
    return version


def throughput(db: str, n: int, rounds: int, findings: int) -> None:
    from peer_django import contender as peer

    with databases(db) as (url, peer_db):
        upgrade(url)
        store = Store(url)
        actors, ids = contenders.prepare(store, 2 * findings)
        peer.configure(peer_db)
        peer.migrate()
        racers = [contenders.EngineContender(store, actors, ids[:findings]),
                  contenders.RawContender(url, ids[findings:]), PeerContender(findings)]
        for racer in racers:  # warm-up: compiled workflow, statement caches, Django's content types
            racer.run(min(n, 2 * findings))
        rates: dict[str, list[float]] = {r.name: [] for r in racers}
        for r in range(rounds):
            for racer in racers[r % 3:] + racers[:r % 3]:  # rotate who goes first
                start = time.perf_counter()
                racer.run(n)
                rates[racer.name].append(n / (time.perf_counter() - start))
        for racer in racers:
            racer.close()
        with store.uow(write=False) as uow:
            chain = audit.verify(uow.session)
        logged = racers[2].peer.log_rows()
        version = server_version(url)
        store.dispose()
    report(version, n, rounds, findings, rates, chain, logged, racers[2].k)


def report(version, n, rounds, findings, rates, chain, logged, peer_advances) -> None:
    median = {name: statistics.median(values) for name, values in rates.items()}
    db = "postgresql" if version.startswith("PostgreSQL") else "sqlite"
    print(f"\n== {version}: {rounds} rounds x {n} advances per contender, {findings} findings each ==")
    print(f"{'contender':<10} {'median adv/s':>12}   rounds")
    for name, values in rates.items():
        print(f"{name:<10} {median[name]:>12.0f}   " + " ".join(f"{v:.0f}" for v in values))
    to_raw, to_peer = median["engine"] / median["raw"], median["engine"] / median["peer"]
    print(f"engine/raw  = {to_raw:5.2f}   target >= {TARGETS[db]:.2f}  "
          f"{'MET' if to_raw >= TARGETS[db] else 'MISSED'}")
    print(f"engine/peer = {to_peer:5.2f}   target >= {PEER_TARGET:.2f}  "
          f"{'MET' if to_peer >= PEER_TARGET else 'MISSED'}")
    print(f"audit chains (engine + raw rows): {'ok' if chain.ok else 'BROKEN'}, {chain.rows_checked} rows checked"
          + ("" if chain.ok else f" - finding {chain.finding_id} seq {chain.seq}: {chain.problem}"))
    print(f"peer StateLog rows: {logged} for {peer_advances} advances")


def profile(db: str, n: int, findings: int) -> None:
    with databases(db) as (url, _):
        upgrade(url)
        store = Store(url)
        actors, ids = contenders.prepare(store, findings)
        racer = contenders.EngineContender(store, actors, ids)
        racer.run(min(n, 2 * findings))
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(racer.run, n)
        elapsed = time.perf_counter() - start
        store.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    print(f"\n== profile of {n} engine advances on {db}: {n / elapsed:.0f} adv/s under cProfile ==")
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=2000, help="advances per contender per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--findings", type=int, default=64, help="findings per contender")
    parser.add_argument("--memory", action="store_true", help="measure worker RSS with 10^4 vs 10^6 findings")
    parser.add_argument("--k", type=int, default=2000, help="advances per memory worker")
    parser.add_argument("--sizes", default="10000,1000000", help="stored findings for --memory")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine's advances")
    parser.add_argument("--memory-worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1 or args.findings < 1 or args.k < 1:
        parser.error("--n, --rounds, --findings and --k must be at least 1")
    if args.memory_worker:
        import memory

        memory.worker(args.memory_worker, args.k)
        return 0
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if args.memory:
        import memory

        sizes = [int(s) for s in args.sizes.split(",")]
        for db in dbs:
            memory.measure(db, sizes, args.k, pg_database)
        return 0
    if args.profile:
        for db in dbs:
            profile(db, args.n, args.findings)
        return 0
    if len(dbs) > 1:
        # Django is configured once per process, so each backend runs in a child of its own.
        for db in dbs:
            child = [sys.executable, __file__, "--db", db, "--n", str(args.n), "--rounds", str(args.rounds),
                     "--findings", str(args.findings)]
            if subprocess.run(child, check=False).returncode:
                return 1
        return 0
    throughput(dbs[0], args.n, args.rounds, args.findings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
