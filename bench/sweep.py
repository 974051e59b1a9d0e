"""How one sweep's time grows with the findings stored when the findings due stay the same.

    python bench/sweep.py [--db sqlite|postgresql|both] [--sizes 100000,1000000] [--due 10000] [--repeat 3]
                          [--profile]

Per database (a fresh PostgreSQL database, dropped afterwards; SQLite in a temporary folder) the table grows to
each size in turn by bulk SQL (bench/sweep_data.py): most findings closed (no sweep time), one in ten open with
a reminder or due time ahead, and `--due` per sweep in `assigned` or `rectifying` falling due, each finding
with its audit chain. Then one sweep fires `escalate` on the due ones through engine.services.advance,
and a second sweep right after must fire nothing. The figures printed beside it, measured in the same run:
the sweep's selection query alone (paged like the sweep), the cost per finding fired, and a full count of
the findings table, which does grow with the findings stored. At the largest size the selection's plan
(EXPLAIN) shows the index on `sweep_at` at work. The machine is shared, so each size is swept `--repeat` times,
each sweep a few hours (of `now`) after the last, with its own `--due` findings falling due in between, spread
over the whole batch; the fastest sweep counts. `--profile` adds one more sweep at the largest size under
cProfile. Nothing is asserted; a growth ratio above TARGET is flagged.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helper modules live beside this script

import sweep_data  # noqa: E402
from advance import pg_database  # noqa: E402

from engine import audit, timers  # noqa: E402
from engine.db import utcnow  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.models import AuditEntry, Finding, Notification  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

TARGET = 1.5  # t(largest) / t(smallest) of the sweep, with the findings due held constant
SAMPLE = 20  # escalated findings whose audit chain is verified after each sweep


def selection(store: Store, now: datetime) -> tuple[int, float]:
    """The sweep's reads alone: every page of timers.due_query, nothing acted on; (rows, seconds)."""
    start, rows, after = time.perf_counter(), 0, None
    with store.uow(write=False) as uow:
        while True:
            page = uow.session.execute(timers.due_query(now, timers.BATCH, after)).all()
            if not page:
                return rows, time.perf_counter() - start
            rows += len(page)
            after = (page[-1].sweep_at, page[-1].id)


def count_all(store: Store) -> float:
    start = time.perf_counter()
    with store.uow(write=False) as uow:
        uow.session.scalar(sa.select(sa.func.count()).select_from(Finding))
    return time.perf_counter() - start


def check_chains(store: Store, fired_ids: list[int]) -> str:
    """The escalation rows the sweep appended extend the bulk-made chains; a sample of each kind verifies."""
    with store.uow(write=False) as uow:
        s = uow.session
        step = max(1, len(fired_ids) // SAMPLE)
        ids = fired_ids[::step][:SAMPLE]
        ids += s.scalars(sa.select(Finding.id).where(Finding.state == "closed").order_by(Finding.id.desc())
                         .limit(5)).all()
        ids += s.scalars(sa.select(Finding.id).where(Finding.state.in_(["reported", "verifying"]))
                         .order_by(Finding.id.desc()).limit(5)).all()
        for fid in ids:
            report = audit.verify(s, fid)
            if not report.ok:
                raise SystemExit(f"finding {fid}: audit chain broken at seq {report.seq}: {report.problem}")
        escalated = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.finding_id.in_(fired_ids[:1000]), AuditEntry.event == "escalate",
            AuditEntry.actor == "system"))
    if escalated != min(1000, len(fired_ids)):
        raise SystemExit(f"expected one system escalate row per fired finding, found {escalated}")
    return f"{len(ids)} chains verified"


def due_ids(store: Store, now: datetime) -> list[int]:
    with store.uow(write=False) as uow:
        return list(uow.session.scalars(sa.select(Finding.id).where(Finding.sweep_at <= now)))


def measure_size(store: Store, size: int, due: int, now: datetime) -> dict:
    ids = due_ids(store, now)
    if len(ids) != due:
        raise SystemExit(f"{len(ids)} findings due at {size} stored, expected {due}")
    with store.uow(write=False) as uow:  # compile the workflow once, as a long-running `xuncha serve` has
        uow.registry.get(uow.session, "finding", 1)
    counted = min(count_all(store) for _ in range(3))
    rows, select_s = min((selection(store, now) for _ in range(3)), key=lambda r: r[1])
    if rows != due:
        raise SystemExit(f"the sweep's selection read {rows} findings at {size} stored, expected {due}")
    start = time.perf_counter()
    report = timers.sweep(store, now)
    sweep_s = time.perf_counter() - start
    start = time.perf_counter()
    again = timers.sweep(store, now)
    again_s = time.perf_counter() - start
    if report.failed or report.fired != due or report.reminders or again.fired or again.reminders:
        raise SystemExit(f"unexpected sweep outcome at {size}: first {report.summary()} "
                         f"{report.failed[:3]}; second {again.summary()}")
    with store.uow(write=False) as uow:
        notices = uow.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                     .where(Notification.finding_id.in_(ids[:1000]), Notification.kind == "overdue"))
    if notices != min(1000, len(ids)):
        raise SystemExit(f"expected an overdue notification per fired finding, found {notices}")
    chains = check_chains(store, ids)
    return {"size": size, "rows": rows, "select": select_s, "sweep": sweep_s, "fired": report.fired,
            "again": again_s, "count": counted, "chains": chains}


def print_profile(profiler: cProfile.Profile, fired: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(12)
    print(f"\n-- cProfile of one more sweep at the largest size ({fired} fired) --")
    print(out.getvalue())


def run(db: str, sizes: list[int], due: int, repeat: int, profile: bool) -> list[dict]:
    print(f"\n== sweep on {db}: {due} findings due, stored findings growing {' -> '.join(map(str, sizes))} ==")
    server = pg_database("xuncha_bench_sweep") if db == "postgresql" else contextlib.nullcontext()
    results = []
    with tempfile.TemporaryDirectory(prefix="xuncha-sweep-") as tmp, server as pg_url:
        url = pg_url or f"sqlite:///{tmp}/sweep.db"
        upgrade(url)
        store = Store(url)
        sweep_data.prepare(store)
        with store.uow(write=False) as uow:
            version = uow.session.connection().exec_driver_sql(
                "SELECT version()" if db == "postgresql" else "SELECT 'SQLite ' || sqlite_version()").scalar()
        print(version.split(",")[0])
        print(f"{'stored':>9} {'rep':>4} {'insert s':>9} {'count(*) ms':>12} {'select ms':>10} {'sweep s':>8}"
              f" {'fired':>6} {'ms/fired':>9} {'2nd sweep ms':>13}  checks")
        for size in sizes:
            grown_at = utcnow() - timedelta(seconds=1)
            _, insert_s = sweep_data.grow(url, size, due, grown_at, repeat)
            store.dispose()  # a fresh pool after the bulk insert and ANALYZE, as a restarted worker would have
            store = Store(url)
            runs = []
            for rep in range(repeat):
                r = measure_size(store, size, due, sweep_data.sweep_time(grown_at, rep))
                runs.append(r)
                print(f"{size:>9} {rep + 1:>4} {insert_s if rep == 0 else 0:>9.1f} {r['count'] * 1000:>12.1f}"
                      f" {r['select'] * 1000:>10.1f} {r['sweep']:>8.2f} {r['fired']:>6}"
                      f" {r['sweep'] / r['fired'] * 1000:>9.2f} {r['again'] * 1000:>13.1f}  {r['chains']}", flush=True)
            results.append({key: min(r[key] for r in runs) for key in ("select", "sweep", "again", "count")}
                           | {"size": size, "fired": due})
        profiled = None
        if profile:  # a sweep of its own: cProfile's overhead must not enter the timed ones
            grown_at = utcnow() - timedelta(seconds=1)
            sweep_data.grow(url, sizes[-1] + due, due, grown_at)
            store.dispose()
            store = Store(url)
            with store.uow(write=False) as uow:
                uow.registry.get(uow.session, "finding", 1)
            profiled = cProfile.Profile()
            profiled.runcall(timers.sweep, store, grown_at)
        with store.uow(write=False) as uow:
            print(f"\nplan of the sweep's selection at {sizes[-1]} stored:")
            print("  " + timers.sweep_plan(uow, datetime.now(UTC)).replace("\n", "\n  "))
        store.dispose()
    first, last = results[0], results[-1]
    ratio = last["sweep"] / first["sweep"]
    print(f"\ngrowth {first['size']} -> {last['size']} stored ({last['size'] / first['size']:.0f}x):"
          f" sweep x{ratio:.2f}{'' if ratio <= TARGET else f'  ABOVE TARGET {TARGET}'} (target <= {TARGET}),"
          f" selection x{last['select'] / first['select']:.2f}, per fired x"
          f"{(last['sweep'] / last['fired']) / (first['sweep'] / first['fired']):.2f},"
          f" second sweep x{last['again'] / first['again']:.2f}; count(*) x{last['count'] / first['count']:.2f}")
    print(f"selection share of the sweep: {first['select'] / first['sweep']:.1%} at {first['size']},"
          f" {last['select'] / last['sweep']:.1%} at {last['size']}")
    if profiled:
        print_profile(profiled, due)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="100000,1000000", help="stored findings, comma-separated, growing")
    parser.add_argument("--due", type=int, default=10_000, help="findings due at each size")
    parser.add_argument("--repeat", type=int, default=3,
                        help=f"sweeps per size (1 to {sweep_data.MAX_REPEAT}), each over its own --due findings;"
                             " the fastest counts")
    parser.add_argument("--profile", action="store_true", help="cProfile the sweep at the largest size")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of whole numbers")
    if sizes != sorted(set(sizes)) or sizes[0] < 1:
        parser.error("--sizes must be positive and strictly increasing (the table grows from one to the next)")
    if args.due < 1 or args.due * args.repeat > sizes[0]:
        parser.error(f"--due x --repeat must be between 1 and the smallest size ({sizes[0]})")
    if not 1 <= args.repeat <= sweep_data.MAX_REPEAT:
        parser.error(f"--repeat must be 1 to {sweep_data.MAX_REPEAT}")
    if any(b - a < args.due * args.repeat for a, b in zip(sizes, sizes[1:], strict=False)):
        parser.error("--sizes: each step must add at least --due x --repeat findings (the due ones are new)")
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(db, sizes, args.due, args.repeat, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
