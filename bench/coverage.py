"""Coverage (全覆盖) over a year: 5,000 service places × 6 periods, 10⁵ to 10⁶ checks, on PostgreSQL.

    python bench/coverage.py [--sizes 100000,200000,1000000] [--places 5000] [--repeat 3] [--profile]

A fresh PostgreSQL database (dropped afterwards) gets a campus of `--places` service places of one kind with
six service periods (four hours each), and checks spread over 2025 at department and centre level, added by
COPY in steps up to each size. Per size: `engine.coverage.coverage` for the whole year and every place (no
filter: the widest question the API answers), the same answered as JSON through the HTTP API (Flask test
client), the 覆盖情况 page for the same year (heat map and gaps, signed in as a leader), and, as the baseline
measured in the same run, the one GROUP BY a hand-written report would need for
the counts alone. The fastest of `--repeat` runs counts (the machine is shared). Nothing is asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from advance import pg_database  # noqa: E402

from engine import accounts, admin, coverage  # noqa: E402
from engine.actors import Actor  # noqa: E402
from engine.migrations import upgrade  # noqa: E402
from engine.places.config import load_config  # noqa: E402
from engine.places.periods import day_type  # noqa: E402
from engine.unit_of_work import Store  # noqa: E402

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows.yaml"
ZONE = ZoneInfo("Asia/Shanghai")
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
PERIODS = [(f"p{i}", i * 240) for i in range(6)]  # six four-hour periods, 00:00-04:00 ... 20:00-24:00
CONFIG = """\
places:
  kinds:
    campus: {label: {zh: 校区, en: Campus}, tier: campus}
    hall:
      label: {zh: 服务场所, en: Service place}
      tier: building
      periods:
""" + "".join(f"        p{i}: {{label: {{zh: 时段{i}, en: Period {i}}}, "
              f"hours: \"{i * 4:02d}:00-{i * 4 + 4:02d}:00\"}}\n" for i in range(6)) + """\
  targets:
    - {name: 每周督查, kind: hall, level: department, at_least: 1, per: week}
    - {name: 每日自查, kind: hall, level: centre, at_least: 1, per: day}
    - {name: 节假日每月, kind: hall, level: any, at_least: 1, per: month, days: [weekend, holiday]}
"""


def build(store: Store, places: int) -> None:
    with store.uow() as uow:
        admin.load_workflows(uow, WORKFLOWS.read_text(encoding="utf-8"), by="bench")
        load_config(uow, CONFIG, by="bench")
        admin.create_unit(uow, "GAD", "总务部")
        admin.create_unit(uow, "PROP", "物业服务中心", parent="GAD")
        admin.create_user(uow, "leader", ["leader"])
        uow.commit()
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        unit = conn.exec_driver_sql("SELECT id FROM units WHERE code = 'PROP'").scalar()
        conn.exec_driver_sql(
            "INSERT INTO places (id, code, name_zh, kind, path, unit_id, active, created_at, updated_at) "
            "VALUES (1, 'ROOT', '主校区', 'campus', '/0000000001/', %s, true, %s, %s)", (unit, now, now))
        for level, rid in (("department", 1), ("centre", 2)):
            conn.exec_driver_sql(
                "INSERT INTO inspection_rounds (id, name, level, unit_id, inspectors, plan, notes, state, "
                "created_by, created_at) VALUES (%s, %s, %s, %s, '[]', '{}', '', 'in_progress', 'bench', %s)",
                (rid, f"bench {level}", level, unit if level == "centre" else None, now))
    raw = store.engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy("COPY places (id, code, name_zh, kind, parent_id, path, unit_id, active, "
                                           "created_at, updated_at) FROM STDIN") as copy:
            for i in range(2, places + 2):
                copy.write_row((i, f"H{i:05d}", f"服务场所{i}号", "hall", 1, f"/0000000001/{i:010d}/", unit, True,
                                now, now))
        raw.commit()
    finally:
        raw.close()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("SELECT setval('places_id_seq', %s)", (places + 1,))
        conn.exec_driver_sql("SELECT setval('inspection_rounds_id_seq', 2)")


def add_checks(store: Store, places: int, count: int, rng: random.Random, calendar) -> None:
    days = [YEAR[0] + timedelta(days=i) for i in range((YEAR[1] - YEAR[0]).days + 1)]
    types = {d: day_type(calendar, d) for d in days}
    raw = store.engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy("COPY checks (round_id, place_id, covers_id, level, at, period, day_type, "
                                           "service_day, day_number, month_number, result, inspector, note, "
                                           "created_at) FROM STDIN") as copy:
            for _ in range(count):
                place = rng.randrange(2, places + 2)
                day = rng.choice(days)
                name, start = rng.choice(PERIODS)
                at = datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(minutes=start + rng.randrange(240))
                level, rid = ("centre", 2) if rng.random() < 0.7 else ("department", 1)
                copy.write_row((rid, place, place, level, at, name, types[day], day, day.toordinal(),
                                day.year * 12 + day.month - 1, "ok", "bench", "", at))
        raw.commit()
    finally:
        raw.close()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE checks")


def fastest(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,200000,1000000")
    parser.add_argument("--places", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rng = random.Random(2025)
    leader = Actor("leader", ("leader",))
    query = coverage.CoverageQuery(*YEAR)
    with pg_database("xuncha_bench_coverage") as url:
        upgrade(url)
        store = Store(url)
        build(store, args.places)
        from web import create_app

        app = create_app({"STORE": store, "TESTING": True})
        with store.uow() as uow:
            _, token = admin.create_user(uow, "bench.reader", ["leader"])
            accounts.set_password(uow, None, "bench.reader", "bench-password-1")
            uow.commit()
        client = app.test_client()
        path = f"/api/v1/coverage?from={YEAR[0]}&to={YEAR[1]}"
        reader = app.test_client()  # the page, signed in through the form as a person would
        login = reader.get("/login").get_data(as_text=True)
        csrf = login.split('name="csrf_token" value="')[1].split('"')[0]
        reader.post("/login", data={"name": "bench.reader", "password": "bench-password-1", "csrf_token": csrf})
        stored, results = 0, {}
        print(f"PostgreSQL, {args.places} places x {len(PERIODS)} periods, checks over {YEAR[0].year}")
        print(f"{'checks':>9} {'coverage()':>11} {'HTTP JSON':>10} {'page':>8} {'raw GROUP BY':>13} {'ratio':>6} "
              f"{'rows':>6}")
        for size in sizes:
            add_checks(store, args.places, size - stored, rng, store.calendar)
            stored = size

            def engine_call():
                with store.uow(write=False) as uow:
                    return coverage.coverage(uow, leader, query)

            def http_call():
                answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text[:300]
                return answer

            def page_call():
                answer = reader.get(f"/coverage?from={YEAR[0]}&to={YEAR[1]}")
                assert answer.status_code == 200 and b"heatmap-data" in answer.data, answer.status_code
                return answer

            def baseline():
                with store.engine.connect() as conn:
                    return conn.exec_driver_sql(
                        "SELECT covers_id, period, level, count(*), max(at) FROM checks WHERE at >= %s AND at < %s "
                        "GROUP BY covers_id, period, level",
                        (datetime(2025, 1, 1, tzinfo=ZONE), datetime(2026, 1, 1, tzinfo=ZONE))).all()

            t_engine, rows = fastest(engine_call, args.repeat)
            t_http, _ = fastest(http_call, args.repeat)
            t_page, _ = fastest(page_call, args.repeat)
            t_raw, _ = fastest(baseline, args.repeat)
            results[size] = t_engine
            print(f"{size:>9,} {t_engine:>10.3f}s {t_http:>9.3f}s {t_page:>7.3f}s {t_raw:>12.3f}s "
                  f"{t_engine / t_raw:>6.2f} {len(rows):>6}")
        if len(sizes) > 1:
            low, high = results[sizes[0]], results[sizes[-1]]
            print(f"growth: coverage() at {sizes[-1]:,} vs {sizes[0]:,} checks: {high:.3f}s / {low:.3f}s = "
                  f"{high / low:.2f}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: coverage.coverage(store.uow(write=False).__enter__(), leader, query))
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        store.dispose()


if __name__ == "__main__":
    main()
