"""Transition POSTs per second and p50/p99 latency through gunicorn: the API against a raw-driver Flask baseline.

    python bench/http_api.py [--db sqlite|postgresql|both] [--workers 2] [--clients 4] [--seconds 10] [--rounds 3]
                         [--worker-class gthread|sync] [--findings 8]
    python bench/http_api.py --profile [--db ...] [--n 500]     cProfile of the API's transition POSTs (test client)

Both apps are served by gunicorn the same way (worker count and class) on one fresh database: the API
(`web:create_app()`) and bench/http_baseline.py, which runs RawContender's statements per POST. C client threads,
each with its own keep-alive http.client connection and its own findings, POST the five-step cycle of
bench/contenders.py (rectify, verify fail, rectify, verify pass, reopen) for --seconds; the two servers take
turns in every round and medians are printed. SQLite has a single writer: its worker count is capped at 2.
"""
from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from advance import pg_database, server_version

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # contenders and the baseline app live beside this script

import contenders  # noqa: E402

from engine import admin, audit  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

ROOT = BENCH.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
APPS = {"api": "web:create_app()", "baseline": "bench.http_baseline:create_app()"}
TARGET = 0.70  # api / baseline throughput
MAX_REQUESTS = 1_000_000  # per client per round: a bound on the loop whatever --seconds says
START_TIMEOUT = 60.0


@contextmanager
def database(db: str):
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="xuncha-http-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    with pg_database("xuncha_http") as url:
        yield url


def tokens(store: Store) -> dict[str, str]:
    """API tokens for a centre user of FOOD and an inspector (prepare's users keep theirs secret)."""
    with store.uow() as uow:
        _, food = admin.create_user(uow, "http_food", ["centre"], unit="FOOD")
        _, inspector = admin.create_user(uow, "http_inspector", ["inspector"])
        uow.commit()
    return {"food": food, "inspector": inspector}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, url: str, workers: int, worker_class: str, instance: str):
    """A gunicorn serving `app` on 127.0.0.1; yields its port once it answers, terminates it afterwards."""
    port = free_port()
    env = dict(os.environ, XUNCHA_DATABASE_URL=url, XUNCHA_INSTANCE=instance)
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([GUNICORN, "-w", str(workers), "-k", worker_class, "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", APPS[app]],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, port, "/api/v1/health" if app == "api" else "/health", log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def wait_ready(proc: subprocess.Popen, port: int, path: str, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"gunicorn on port {port} did not come up:\n{log.read().decode(errors='replace')[-3000:]}")


class Client:
    """One load thread: a keep-alive connection and its own findings, driven round the cycle across rounds."""

    def __init__(self, port: int, ids: list[int], tokens: dict[str, str]):
        self.port, self.ids, self.k = port, ids, 0
        self.headers = {who: {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}
                        for who, t in tokens.items()}
        self.bodies = [json.dumps({"event": e, "payload": p}).encode() for e, p, _ in contenders.CYCLE]
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.ok = 0

    def run(self, deadline: float | None, limit: int) -> None:
        conn, count, perf = self.conn, len(self.ids), time.perf_counter
        self.latencies, self.errors, self.ok = [], [], 0
        conn.close()  # a fresh connection per round: the server drops keep-alives idle while the other app ran
        for _ in range(limit):
            if deadline is not None and perf() >= deadline:
                break
            index, s = contenders.step(self.k, count)
            start = perf()
            try:
                conn.request("POST", f"/api/v1/findings/{self.ids[index]}/transitions", self.bodies[s],
                             self.headers[contenders.CYCLE[s][2]])
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # http.client reopens on the next request
                self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            self.k += 1  # only once answered: a request that never reached the server is sent again
            self.latencies.append(perf() - start)
            if 200 <= response.status < 300:
                self.ok += 1
            else:
                self.errors.append(f"{response.status} " + " ".join(body[:300].decode(errors="replace").split()))

    def close(self) -> None:
        self.conn.close()


def load(clients: list[Client], seconds: float | None, limit: int = MAX_REQUESTS) -> dict:
    """All clients at once for `seconds` (or `limit` requests each); requests/s, latency percentiles, errors."""
    barrier = threading.Barrier(len(clients) + 1)
    deadline: list[float | None] = [None]

    def work(client: Client) -> None:
        barrier.wait()
        client.run(deadline[0], limit)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    start = time.perf_counter()
    deadline[0] = start + seconds if seconds is not None else None
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies = sorted(x for c in clients for x in c.latencies)
    errors = [e for c in clients for e in c.errors]
    return {"rate": sum(c.ok for c in clients) / elapsed, "requests": len(latencies), "errors": errors,
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99)}


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def throughput(db: str, workers: int, worker_class: str, clients: int, seconds: float, rounds: int,
               findings: int) -> bool:
    if db == "sqlite" and workers > 2:
        print(f"(sqlite: one writer at a time, so --workers {workers} is capped at 2)")
        workers = 2
    with ExitStack() as stack:
        url = stack.enter_context(database(db))
        instance = stack.enter_context(tempfile.TemporaryDirectory(prefix="xuncha-http-instance-"))
        upgrade(url)
        store = Store(url)
        _, ids = contenders.prepare(store, 2 * clients * findings)
        keys = tokens(store)
        version = server_version(url)
        runs: dict[str, list[dict]] = {"api": [], "baseline": []}
        loads: dict[str, list[Client]] = {}
        for n, app in enumerate(runs):
            port = stack.enter_context(gunicorn(app, url, workers, worker_class, instance))
            mine = ids[n * clients * findings:(n + 1) * clients * findings]
            loads[app] = [Client(port, mine[i * findings:(i + 1) * findings], keys) for i in range(clients)]
            stack.callback(lambda cs=loads[app]: [c.close() for c in cs])
        for app, cs in loads.items():  # warm-up: worker imports, statement caches, compiled workflow
            warm = load(cs, None, limit=2 * len(contenders.CYCLE))
            if warm["errors"]:
                raise RuntimeError(f"{app} warm-up failed: {warm['errors'][:3]}")
        order = list(runs)
        for r in range(rounds):
            for app in order[r % 2:] + order[:r % 2]:  # alternate who goes first
                runs[app].append(load(loads[app], seconds))
        with store.uow(write=False) as uow:
            chain = audit.verify(uow.session)
        store.dispose()
    return report(version, workers, worker_class, clients, seconds, rounds, findings, runs, chain)


def report(version, workers, worker_class, clients, seconds, rounds, findings, runs, chain) -> bool:
    kept = "keep-alive" if worker_class != "sync" else "reconnecting (sync workers close after each response)"
    print(f"\n== {version}: gunicorn -w {workers} -k {worker_class}, {clients} {kept} clients x {findings} "
          f"findings each, {rounds} rounds x {seconds:g} s per app ==")
    print(f"{'app':<9} {'median req/s':>12} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}   req/s per round")
    median = {}
    for app, results in runs.items():
        median[app] = statistics.median(x["rate"] for x in results)
        p50 = statistics.median(x["p50"] for x in results)
        p99 = statistics.median(x["p99"] for x in results)
        errors = [e for x in results for e in x["errors"]]
        print(f"{app:<9} {median[app]:>12.0f} {p50:>7.1f} {p99:>7.1f} {len(errors):>6}   "
              + " ".join(f"{x['rate']:.0f}" for x in results))
        for e in errors[:5]:
            print(f"    {app} error: {e}")
    ratio = median["api"] / median["baseline"]
    print(f"api/baseline = {ratio:5.2f}   target >= {TARGET:.2f}  {'MET' if ratio >= TARGET else 'MISSED'}")
    print(f"audit chains: {'ok' if chain.ok else 'BROKEN'}, {chain.rows_checked} rows checked"
          + ("" if chain.ok else f" - finding {chain.finding_id} seq {chain.seq}: {chain.problem}"))
    return chain.ok and not any(x["errors"] for results in runs.values() for x in results)


def profile(db: str, n: int, findings: int) -> None:
    """cProfile of `n` transition POSTs through the Flask test client (no gunicorn, no sockets)."""
    from web import create_app

    with database(db) as url, tempfile.TemporaryDirectory(prefix="xuncha-http-instance-") as instance:
        os.environ["XUNCHA_INSTANCE"] = instance
        upgrade(url)
        store = Store(url)
        _, ids = contenders.prepare(store, findings)
        keys = tokens(store)
        client = create_app({"STORE": store}).test_client()
        headers = {who: {"Authorization": f"Bearer {t}"} for who, t in keys.items()}
        k = [0]

        def post(count: int) -> None:
            for _ in range(count):
                index, s = contenders.step(k[0], findings)
                k[0] += 1
                event, payload, who = contenders.CYCLE[s]
                response = client.post(f"/api/v1/findings/{ids[index]}/transitions", headers=headers[who],
                                       json={"event": event, "payload": payload})
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} {response.get_data(as_text=True)[:300]}")

        post(2 * len(contenders.CYCLE) * findings)
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(post, n)
        elapsed = time.perf_counter() - start
        store.dispose()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(50)
    stats.sort_stats("tottime").print_stats(25)
    if os.environ.get("XUNCHA_PROFILE_OUT"):  # for snakeviz, gprof2dot or pstats in a shell
        stats.dump_stats(os.environ["XUNCHA_PROFILE_OUT"])
    print(f"\n== profile of {n} transition POSTs (Flask test client) on {db}: {n / elapsed:.0f} req/s "
          f"under cProfile ==")
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both apps")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread",
                        help="gthread (1 thread) keeps connections alive; sync closes each after its response")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients per app")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per app per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--findings", type=int, default=8, help="findings per client")
    parser.add_argument("--profile", action="store_true", help="cProfile the API's POSTs (Flask test client)")
    parser.add_argument("--n", type=int, default=500, help="POSTs for --profile")
    args = parser.parse_args(argv)
    if min(args.workers, args.clients, args.rounds, args.findings, args.n) < 1 or not 0 < args.seconds <= 600:
        parser.error("--workers, --clients, --rounds, --findings, --n must be at least 1; --seconds in (0, 600]")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if args.profile:
        for db in dbs:
            profile(db, args.n, args.findings)
        return 0
    clean = True
    for db in dbs:
        clean &= throughput(db, args.workers, args.worker_class, args.clients, args.seconds, args.rounds,
                            args.findings)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
