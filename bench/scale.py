"""Every read at 10⁵ and 10⁶ findings (and what 10⁷ would need): lists, details, scorecards, export, verify, sweep.

    python bench/scale.py [--sizes 100000,1000000] [--rounds 5] [--due 10000] [--explain] [--keep] [--reads-only]

One fresh PostgreSQL database (dropped afterwards unless --keep) grows to each size in turn by COPY
(bench/scale_data.py: realistic Chinese findings over two years, each with its full audit chain). At each size,
through the JSON API (Flask test client, an inspector's token; the auditor's for the log):
- the findings list, first page and a deep page (the keyset cursor half-way down the ids, or `after`), plain
  and with each common filter: state, unit (a team; a centre with its teams), overdue, a month of reports,
  text search (a common phrase, a rare one, and a two-character word trigrams cannot serve);
- a finding's detail and its history (random ids);
- a unit's scorecard for the last 365 days, and the ranking of all 37 units;
- the audit log's CSV export and a full `audit verify`, each in a fresh process that reports its peak RSS
  (VmHWM), beside the RSS of a process that only starts the app;
- the sweep with `--due` findings overdue (the same number at every size).
`--reads-only` skips the export, the verify and the sweep (each linear in what it reads or fires by design), so
10⁷ can be reached in the time its load takes (about 30 minutes on a quiet 2-core machine, 31 GB of disk).
Medians of `--rounds` are printed per size, then the ratio of the largest size to the smallest, flagged above
TARGET. `--explain` prints, at the largest size, the plan (EXPLAIN, not ANALYZE) of every statement that reads
findings or the audit log in each of those, and flags any sequential scan of either table.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scale_data  # noqa: E402
from advance import pg_database  # noqa: E402

from engine import keyset, timers  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.models import Finding  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

TARGET = 1.5
ROOT = BENCH.parent
TABLES = re.compile(r"\b(findings|audit_log)\b")


def lists(now: datetime, deep: int) -> dict[str, str]:
    """Findings list requests: each filter's first page, and a deep page from the keyset cursor `deep`."""
    month = (now - timedelta(days=200)).date()
    filters = {
        "all": "",
        "state=rectifying": "state=rectifying",
        "state=closed": "state=closed",
        "unit (team)": "unit=PROP-3",
        "unit (centre)": "unit=FOOD",
        "overdue": "overdue=true",
        "reported in a month": f"reported_from={month}&reported_to={month + timedelta(days=30)}",
        "q common (水龙头漏水)": "q=水龙头漏水",
        "q rare (第4321号)": "q=第4321号",
        "q 2 chars (漏水)": "q=漏水",
    }
    out = {}
    for name, query in filters.items():
        out[f"list {name}"] = f"/api/v1/findings?{query}"
        out[f"list {name}, deep"] = f"/api/v1/findings?{query}&cursor={deep}"
    return out


@contextmanager
def statements(engine_filter=TABLES):
    """Every (statement, parameters) sent while inside, that reads findings or the audit log."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")) \
                and engine_filter.search(statement):
            seen.append((statement, parameters))

    event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", record)


def explain(url: str, seen: list[tuple[str, object]], title: str) -> list[str]:
    """The plans of the statements seen (each once), flagged when one scans findings or audit_log in full."""
    import psycopg
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    out, done = [], set()
    with psycopg.connect(dsn) as conn:
        conn.execute("SET jit = off")  # as the application's connections (engine.db)
        for statement, parameters in seen:
            if statement in done:
                continue
            done.add(statement)
            plan = [r[0] for r in conn.execute("EXPLAIN " + statement, parameters)]
            bad = [line for line in plan if re.search(r"Seq Scan on (findings|audit_log)\b", line)]
            out.append(f"--- {title}: {'SEQUENTIAL SCAN' if bad else 'index'}\n    "
                       + " ".join(statement.split())[:300] + "\n" + "\n".join("    " + p for p in plan))
    return out


def timed_get(client, path: str, headers: dict, rounds: int) -> tuple[float, dict | None]:
    client.get(path, headers=headers)  # warm
    times, body = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        body = response.get_json(silent=True)
    return statistics.median(times), body


def measure_api(url: str, tokens: dict, now: datetime, rounds: int, want_plans: bool) -> tuple[dict, list]:
    from web import create_app

    store = Store(url)
    client = create_app({"STORE": store, "TESTING": True}).test_client()
    inspector = {"Authorization": f"Bearer {tokens['inspector']}"}
    with store.uow(write=False) as uow:
        top = uow.session.connection().exec_driver_sql("SELECT max(id) FROM findings").scalar()
    results, plans = {}, []
    requests = lists(now, top // 2)
    requests["list newest reported"] = "/api/v1/findings?sort=-created_at"
    requests["list newest reported, deep (after=)"] = f"/api/v1/findings?sort=-created_at&after={_deep(store, top)}"
    ids = random.Random(7).sample(range(1, top + 1), rounds)
    year = f"from={(now - timedelta(days=365)).date()}&to={now.date()}"
    requests |= {"scorecard PROP, a year": f"/api/v1/units/PROP/scorecard?{year}",
                 "ranking, a year": f"/api/v1/scorecards?{year}"}
    for name, path in requests.items():
        with statements() as seen:
            results[name], _ = timed_get(client, path, inspector, rounds)
        if want_plans:
            plans += explain(url, seen[:6], name)
    for name, suffix in (("detail", ""), ("history", "/history")):
        times = []
        with statements() as seen:
            for fid in ids:
                times.append(timed_get(client, f"/api/v1/findings/{fid}{suffix}", inspector, 1)[0])
        results[name] = statistics.median(times)
        if want_plans:
            plans += explain(url, seen[:8], name)
    store.dispose()
    return results, plans


def _deep(store: Store, top: int) -> str:
    """An `after` cursor half-way down the findings sorted by report time, newest first."""
    with store.uow(write=False) as uow:
        at = uow.session.scalar(sa.select(Finding.created_at).where(Finding.id == top // 2))
    return keyset.encode("-created_at", at, top // 2)


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over exec from the parent, so a child of a
    big parent would report the parent's peak; VmHWM belongs to the new process image."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def child(kind: str, url: str, token: str, explain_plans: bool) -> None:
    """Run in a fresh process: the audit CSV export (streamed, discarded) or a full verify; print time, RSS."""
    from engine.audit import runs
    from web import create_app

    store = Store(url)
    app = create_app({"STORE": store, "TESTING": True})
    start, size = time.perf_counter(), 0
    with statements() as seen:
        if kind == "export":
            with app.test_client() as client:
                response = client.get("/api/v1/audit?format=csv", headers={"Authorization": f"Bearer {token}"},
                                      buffered=False)
                for chunk in response.response:
                    size += len(chunk)
                response.close()
        elif kind == "verify":
            report = runs.check(store)
            size = report.rows_checked
            if not report.ok:
                raise SystemExit(f"verify found {report.as_dict()['breaks'][:3]}")
    seconds = time.perf_counter() - start
    rss = peak_rss_mb()
    plans = explain(url, seen, kind) if explain_plans else []
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "size": size, "plans": plans}))


def run_child(kind: str, url: str, token: str, explain_plans: bool = False) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url, token]
                         + (["--explain"] if explain_plans else []),
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_sweep(url: str, now: datetime, want_plans: bool) -> tuple[float, int, list]:
    store = Store(url)
    with statements() as seen:
        start = time.perf_counter()
        report = timers.sweep(store, now)
        seconds = time.perf_counter() - start
    plans = explain(url, seen[:3], "sweep") if want_plans else []
    store.dispose()
    return seconds * 1000, report.fired, plans


def measure_log_and_sweep(url: str, tokens: dict, now: datetime, due: int, want_plans: bool,
                          results: dict) -> list:
    """The audit export and verify (time and peak RSS, each in a fresh process) and the sweep, into `results`."""
    plans = []
    idle = run_child("idle", url, tokens["auditor"])
    for kind in ("export", "verify"):
        got = run_child(kind, url, tokens["auditor"], want_plans)
        results[f"audit {kind} (ms)"] = got["seconds"] * 1000
        results[f"audit {kind} peak RSS (MB)"] = got["rss_mb"]
        results["  idle process RSS (MB)"] = idle["rss_mb"]
        plans += got["plans"]
        print(f"  audit {kind}: {got['size']:,} {'bytes' if kind == 'export' else 'rows'}", flush=True)
    results[f"sweep, {due:,} due (ms)"], fired, sweep_plans = measure_sweep(url, now, want_plans)
    # More findings come due at a larger size (reminders as well as deadlines): per finding fired too.
    results["sweep, per finding fired (ms)"] = results[f"sweep, {due:,} due (ms)"] / max(fired, 1)
    print(f"  sweep fired {fired:,}")
    return plans + sweep_plans


def run(sizes: list[int], rounds: int, due: int, explain_plans: bool, keep: bool, reads_only: bool = False) -> None:
    began = time.perf_counter()
    with pg_database("xuncha_scale") as url:
        upgrade(url)
        store = Store(url)
        tokens = scale_data.prepare(store, (ROOT / "workflows.yaml").read_text(encoding="utf-8"))
        store.dispose()
        table: dict[int, dict[str, float]] = {}
        for size in sizes:
            now = datetime.now(UTC)
            added, seconds = scale_data.grow(url, size, due=due, now=now)
            print(f"\n{size:,} findings stored ({added:,} added with their audit rows by COPY in {seconds:.0f} s)",
                  flush=True)
            largest = explain_plans and size == sizes[-1]
            results, plans = measure_api(url, tokens, now, rounds, largest)
            if not reads_only:
                plans += measure_log_and_sweep(url, tokens, now, due, largest, results)
            table[size] = results
            for name, value in results.items():
                print(f"  {name:<40} {value:10.1f}{'' if '(' in name else ' ms'}", flush=True)
            if plans:
                print(f"\nplans at {size:,} findings:\n" + "\n".join(plans))
            with sa.create_engine(url).connect() as conn:
                print("  database size:", conn.exec_driver_sql(
                    "SELECT pg_size_pretty(pg_database_size(current_database()))").scalar())
        if len(sizes) > 1:
            small, big = sizes[0], sizes[-1]
            print(f"\nratio {big:,} / {small:,} (target ≤ {TARGET}):")
            for name in table[small]:
                ratio = table[big][name] / table[small][name] if table[small][name] else float("nan")
                flag = "" if ratio <= TARGET or "idle" in name else "  ABOVE TARGET"
                print(f"  {name:<40} {table[small][name]:10.1f} {table[big][name]:10.1f}   x{ratio:.2f}{flag}")
        if keep:
            print(f"\nkept: {url}; press Enter to drop it")
            input()
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--reads-only", action="store_true",
                        help="lists, details and scorecards only: no export, verify or sweep (for 10^7)")
    parser.add_argument("--keep", action="store_true", help="keep the database until Enter is pressed")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, url, token = args.child
        if kind == "idle":
            from web import create_app
            create_app({"STORE": Store(url), "TESTING": True})
            print(json.dumps({"seconds": 0, "size": 0, "plans": [], "rss_mb": peak_rss_mb()}))
        else:
            child(kind, url, token, args.explain)
        return 0
    run([int(s) for s in args.sizes.split(",")], args.rounds, args.due, args.explain, args.keep, args.reads_only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
