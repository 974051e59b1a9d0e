"""A worker's resident memory after K advances on a database holding 10^4 and then 10^6 findings."""
from __future__ import annotations

import contextlib
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import contenders
import psutil
import sqlalchemy as sa

from engine import audit, services
from engine.actors import actor_for
from engine.migrations import upgrade
from engine.models import Finding, User
from engine.unit_of_work import Store

START = ("assign", {}, "inspector"), ("respond", {"plan": "fix it"}, "food")
SAMPLE = 200  # findings a worker touches, spread over the whole id range
GENESIS = audit.GENESIS
COLUMNS = ("id, title, description, category, location, unit_id, source, severity, reporter_id, workflow_name,"
           " workflow_version, state, version, state_entered_at, due_at, remind_at, failed_verifications,"
           " reopenings, overdue_count, repeat_count, created_at, updated_at, audit_seq, audit_head")
AUDIT = ("INSERT INTO audit_log (finding_id, seq, event, from_state, to_state, actor, role, at, payload,"
         " workflow_name, workflow_version, prev_hash, hash)"
         " SELECT id, 1, 'report', NULL, 'reported', 'inspector', 'inspector', created_at, '{}', 'finding', 1,"
         " '" + GENESIS + "', audit_head FROM findings WHERE id > :lo")


def first_row_body(at: datetime) -> tuple[str, str]:
    """The canonical JSON of a finding's `report` row, split around its id (engine.audit.row_hash's form)."""
    body = json.dumps([0, 1, "report", None, "reported", "inspector", "inspector", audit.canonical_time(at), {},
                       None, "finding", 1, GENESIS], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert body.startswith("[0,")
    return "[", body[2:]


def grow(url: str, total: int) -> float:
    """Bulk-insert findings in `reported` (and their first audit row) until `total` are stored; seconds taken."""
    start, store = time.perf_counter(), Store(url)
    with store.uow(write=False) as uow:
        have = uow.session.scalar(sa.select(sa.func.count(Finding.id)))
        lo = uow.session.scalar(sa.select(sa.func.max(Finding.id))) or 0
        unit = uow.session.scalar(sa.text("SELECT id FROM units WHERE code = 'FOOD'"))
        reporter = uow.session.scalar(sa.select(User.id).where(User.name == "inspector"))
    store.dispose()
    if have >= total:
        return 0.0
    now = datetime.now(UTC)
    due, remind = now + timedelta(days=1), now + timedelta(hours=20)
    head, tail = first_row_body(now)
    values = (f"'bulk finding ' || g, '', 'hygiene', 'canteen ' || (g % 97), {unit}, 'department', 'normal',"
              f" {reporter}, 'finding', 1, 'reported', 1, :now, :due, :remind, 0, 0, 0, 0, :now, :now, 1")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(
                f"INSERT INTO findings ({COLUMNS}) SELECT g, {values}, encode(sha256(convert_to("
                f"'{head}' || g || '{tail}', 'UTF8')), 'hex') FROM generate_series(:lo + 1, :hi) g"),
                {"lo": lo, "hi": lo + total - have, "now": now, "due": due, "remind": remind})
            conn.execute(sa.text(AUDIT), {"lo": lo})
            conn.exec_driver_sql("SELECT setval('findings_id_seq', (SELECT max(id) FROM findings))")
        else:
            raw = conn.connection.dbapi_connection
            raw.create_function("sha256hex", 1, lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest(),
                                deterministic=True)
            text = "{:%Y-%m-%d %H:%M:%S.%f}"
            conn.execute(sa.text(
                f"WITH RECURSIVE s(g) AS (SELECT :lo + 1 UNION ALL SELECT g + 1 FROM s WHERE g < :hi) "
                f"INSERT INTO findings ({COLUMNS}) SELECT g, {values}, sha256hex('{head}' || g || '{tail}') FROM s"),
                {"lo": lo, "hi": lo + total - have, "now": text.format(now), "due": text.format(due),
                 "remind": text.format(remind)})
            conn.execute(sa.text(AUDIT), {"lo": lo})
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - start


def check_sample(url: str) -> None:
    """The SQL-made hashes must be the engine's, or the workers' advances would extend broken chains."""
    store = Store(url)
    with store.uow(write=False) as uow:
        ids = uow.session.scalars(sa.select(Finding.id).order_by(Finding.id.desc()).limit(3)).all()
        for fid in ids:
            chain = audit.verify(uow.session, fid)
            if not chain.ok:
                raise SystemExit(f"bulk-inserted finding {fid} has a broken chain: {chain.problem}")
    store.dispose()


def worker(url: str, k: int) -> None:
    """Run in a fresh process: K advances over SAMPLE findings spread across the table; print RSS in bytes."""
    process = psutil.Process()
    store = Store(url)
    with store.uow(write=False) as uow:
        actors = {u.name: actor_for(uow.session, u) for u in uow.session.scalars(sa.select(User))}
        lo, hi = uow.session.execute(sa.select(sa.func.min(Finding.id), sa.func.max(Finding.id))).one()
        # Untouched findings in `reported`, so every worker starts its findings at the beginning.
        ids = [uow.session.scalar(sa.select(Finding.id).where(Finding.id >= lo + (hi - lo) * i // SAMPLE,
                                                              Finding.state == "reported").limit(1))
               for i in range(SAMPLE)]
    before = process.memory_info().rss
    steps = list(START) + contenders.CYCLE * (k // len(contenders.CYCLE) + 1)
    for i in range(k):
        index, depth = i % SAMPLE, i // SAMPLE
        event, payload, who = steps[depth]
        with store.uow() as uow:
            services.advance(uow, ids[index], event, actors[who], payload)
            uow.commit()
    store.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rss_before": before, "rss": process.memory_info().rss, "peak": peak}))


def run_worker(url: str, k: int) -> dict:
    script = str(Path(__file__).with_name("advance.py"))
    out = subprocess.run([sys.executable, script, "--memory-worker", url, "--k", str(k)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(db: str, sizes: list[int], k: int, pg_database) -> None:
    mib = 1024 * 1024
    print(f"\n== worker memory on {db}: a fresh process doing {k} advances over {SAMPLE} findings ==")
    print(f"{'findings':>10} {'insert s':>9} {'RSS before':>11} {'RSS after':>10} {'peak':>8}")
    results = []
    server = pg_database("xuncha_bench_mem") if db == "postgresql" else contextlib.nullcontext()
    with tempfile.TemporaryDirectory(prefix="xuncha-mem-") as tmp, server as pg_url:
        url = pg_url or f"sqlite:///{tmp}/memory.db"
        upgrade(url)
        store = Store(url)
        contenders.prepare(store, 0)
        store.dispose()
        for size in sorted(sizes):
            seconds = grow(url, size)
            check_sample(url)
            r = run_worker(url, k)
            results.append(r)
            print(f"{size:>10} {seconds:>9.1f} {r['rss_before'] / mib:>9.1f}M {r['rss'] / mib:>9.1f}M"
                  f" {r['peak'] / mib:>7.1f}M")
    if len(results) > 1:
        print(f"RSS ratio largest/smallest: after {results[-1]['rss'] / results[0]['rss']:.3f}, "
              f"peak {results[-1]['peak'] / results[0]['peak']:.3f}")
