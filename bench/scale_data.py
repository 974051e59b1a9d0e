"""Realistic findings by the million for bench/scale.py, loaded into PostgreSQL with COPY.

A city's year of cases, shaped like a campus's: 37 units (the department, 6 centres, 5 teams under each),
findings reported evenly over two years ending yesterday, each with the audit chain a real one would have
(report, assign, respond, rectify, verify: hashes, effects and all, so `audit verify` reads every row and finds
nothing wrong). Findings younger than ten days are still open somewhere along the path; `due` more per batch
sit in `assigned` or `rectifying` one to 48 hours past their due time, for the sweep. Titles, descriptions and
places are Chinese, made from a few lists, with a running number so no two rows are quite alike.

Rows are made in Python (the chain's canonical JSON and SHA-256, as engine.audit computes them) and streamed
to the server in COPY text format, 50,000 findings at a time.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta

import psycopg
import sqlalchemy as sa

from engine import admin
from engine.audit.chain import GENESIS, SCORED, canonical_time
from engine.unit_of_work import Store

WORKFLOWS = "workflows.yaml"
CENTRES = {"PROP": "物业服务中心", "FOOD": "饮食服务中心", "ENERGY": "能源服务中心", "OFFICE": "办公室",
           "CAMPUS2": "南校区管理委员会", "GROUNDS": "校园环境服务中心"}
TEAMS = 5  # per centre: PROP-1 .. PROP-5
BUILDINGS = ["一食堂", "二食堂", "清真餐厅", "学生公寓9号楼", "学生公寓12号楼", "研究生公寓3号楼", "第一教学楼",
             "第三教学楼", "图书馆", "实验楼A座", "体育馆", "东门广场", "南校区行政楼", "锅炉房", "游泳馆"]
SPOTS = ["东侧卫生间", "西侧楼梯间", "后厨", "售饭窗口", "走廊", "开水间", "配电室", "大厅", "电梯厅", "洗衣房"]
PROBLEMS = [("hygiene", "地面油污未及时清理"), ("hygiene", "垃圾桶满溢"), ("facilities", "水龙头漏水"),
            ("facilities", "照明灯不亮"), ("safety", "消防通道堆放杂物"), ("safety", "灭火器过期"),
            ("food_safety", "留样记录缺失"), ("food_safety", "生熟食品混放"), ("energy", "空调无人时开启"),
            ("facilities", "门禁损坏"), ("hygiene", "墙面霉斑"), ("service", "窗口服务态度生硬")]
SOURCES = ["department"] * 6 + ["self_inspection"] * 3 + ["public"]
SEVERITIES = ["normal"] * 6 + ["low"] * 2 + ["high", "critical"]
SPAN = timedelta(days=730)  # reported over two years
OPEN_AGE = timedelta(days=10)  # younger findings are still open
BATCH = 50_000
# The path every finding walks part of: (event, from, to, actor kind, role, hours after the report, due hours).
STEPS = (
    ("report", None, "reported", "inspector", "inspector", 0, 24),
    ("assign", "reported", "assigned", "inspector", "inspector", 2, 48),
    ("respond", "assigned", "rectifying", "centre", "centre", 20, 120),
    ("rectify", "rectifying", "verifying", "centre", "centre", 70, 48),
    ("verify", "verifying", "closed", "inspector", "inspector", 90, None),
)
PAYLOADS = {"report": {}, "assign": {}, "respond": {"plan": "安排维修人员当日处理"},
            "rectify": {"note": "已整改完毕，附整改后照片"}, "verify": {"verdict": "pass"}}


def unit_codes() -> list[str]:
    return [f"{c}-{t}" for c in CENTRES for t in range(1, TEAMS + 1)]


def prepare(store: Store, yaml_text: str) -> dict[str, str]:
    """The shipped workflows, the department with its centres and teams, an inspector, an auditor and a user
    per team; returns the inspector's and the auditor's API tokens."""
    with store.uow() as uow:
        admin.load_workflows(uow, yaml_text, file=WORKFLOWS, by="bench")
        uow.commit()
    with store.uow() as uow:
        admin.create_unit(uow, "GAD", "总务部")
        tokens = {name: admin.create_user(uow, name, [name])[1] for name in ("inspector", "auditor")}
        for code, name in CENTRES.items():
            admin.create_unit(uow, code, name, parent="GAD")
            for t in range(1, TEAMS + 1):
                admin.create_unit(uow, f"{code}-{t}", f"{name}第{t}组", parent=code)
                admin.create_user(uow, f"{code.lower()}-{t}", ["centre"], unit=f"{code}-{t}")
        uow.commit()
    return tokens


def _hash(fields: list) -> str:
    body = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _text(value) -> str:
    """One field of a COPY text row (nothing here holds tabs, newlines or backslashes)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _line(values) -> str:
    return "\t".join(map(_text, values)) + "\n"


FINDING_COLUMNS = ("id", "title", "description", "category", "location", "unit_id", "source", "severity",
                   "reporter_id", "workflow_name", "workflow_version", "state", "version", "state_entered_at",
                   "due_at", "remind_at", "failed_verifications", "reopenings", "overdue_count", "repeat_count",
                   "created_at", "updated_at", "closed_at", "sweep_at", "closed_on_time", "audit_seq", "audit_head")
AUDIT_COLUMNS = ("finding_id", "seq", "event", "from_state", "to_state", "actor", "role", "at", "payload",
                 "comment", "workflow_name", "workflow_version", "prev_hash", "hash", "effects")


def _finding(fid: int, rng: random.Random, now: datetime, units: list[tuple[int, str]], reporter: int,
             due_every: int) -> tuple[str, list[str]]:
    """One finding's COPY row and its audit rows."""
    unit_id, actor_name = units[fid % len(units)]
    category, problem = PROBLEMS[rng.randrange(len(PROBLEMS))]
    building, spot = BUILDINGS[rng.randrange(len(BUILDINGS))], SPOTS[rng.randrange(len(SPOTS))]
    location = f"{building}{rng.randrange(1, 7)}层{spot}"
    due_group = due_every and fid % due_every == 0
    if due_group:  # overdue by 1 to 48 hours in assigned or rectifying: the sweep escalates it
        length = 2 + fid // due_every % 2
        late = timedelta(hours=1 + fid % 48)
        created = now - late - timedelta(hours=STEPS[length - 1][6] + STEPS[length - 1][5])
    else:
        created = now - timedelta(days=1) - SPAN * rng.random()
        age = now - created
        length = 5 if age > OPEN_AGE else 1 + rng.randrange(4)
    created = created.replace(microsecond=fid % 1_000_000)
    rows, prev, due = [], GENESIS, None
    for k in range(length):
        event, from_state, to_state, kind, role, after, due_hours = STEPS[k]
        at = created + timedelta(hours=after)
        due = at + timedelta(hours=due_hours) if due_hours else None
        if k == 0:
            effects = {c: None for c in SCORED} | {"unit_id": unit_id, "due_at": canonical_time(due),
                                                   "overdue_count": 0, "failed_verifications": 0,
                                                   "reopenings": 0, "repeat_count": 0}
        elif due is not None:
            effects = {"due_at": canonical_time(due)}
        else:
            effects = {"due_at": None, "closed_at": canonical_time(at), "closed_on_time": True}
        actor = "inspector" if kind == "inspector" else actor_name
        payload = PAYLOADS[event]
        row_hash = _hash([fid, k + 1, event, from_state, to_state, actor, role, canonical_time(at), payload, None,
                          "finding", 1, prev, effects])
        rows.append(_line((fid, k + 1, event, from_state, to_state, actor, role, at,
                           json.dumps(payload, ensure_ascii=False), None, "finding", 1, prev, row_hash,
                           json.dumps(effects))))
        prev = row_hash
    entered = created + timedelta(hours=STEPS[length - 1][5])
    closed = length == 5
    remind = due - timedelta(hours=4) if due else None
    sweep = None if closed else (due if due_group else remind)
    title = f"{building}{spot}{problem}"
    description = f"第{fid}号：巡查发现{location}{problem}，请责任单位按期整改并上传整改照片。"
    finding = _line((fid, title, description, category, location, unit_id, SOURCES[fid % len(SOURCES)],
                     SEVERITIES[fid % len(SEVERITIES)], reporter, "finding", 1, STEPS[length - 1][2], length,
                     entered, due, remind, 0, 0, 0, 0, created, entered, entered if closed else None, sweep,
                     True if closed else None, length, prev))
    return finding, rows


def grow(url: str, total: int, *, due: int = 10_000, now: datetime | None = None, seed: int = 13) -> tuple[int, float]:
    """COPY findings and their audit chains until `total` are stored, `due` of the new ones overdue; then
    VACUUM ANALYZE, as a long-lived database would be. Returns (rows added, seconds)."""
    start, now = time.perf_counter(), now or datetime.now(UTC)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(sa.text("SELECT count(*) FROM findings"))
        lo = conn.scalar(sa.text("SELECT coalesce(max(id), 0) FROM findings"))
        ids = dict(conn.execute(sa.text("SELECT code, id FROM units")).all())
        reporter = conn.scalar(sa.text("SELECT id FROM users WHERE name = 'inspector'"))
    engine.dispose()
    count = total - have
    if count <= 0:
        return 0, 0.0
    units = [(ids[code], code.lower()) for code in unit_codes()]
    due_every = max(2, count // due) if due else 0
    rng = random.Random(seed + lo)
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for a in range(lo + 1, lo + count + 1, BATCH):
            made = [_finding(fid, rng, now, units, reporter, due_every)
                    for fid in range(a, min(a + BATCH, lo + count + 1))]
            with cur.copy(f"COPY findings ({', '.join(FINDING_COLUMNS)}) FROM STDIN") as copy:
                copy.write("".join(f for f, _ in made))
            with cur.copy(f"COPY audit_log ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
                copy.write("".join(line for _, rows in made for line in rows))
        cur.execute("SELECT setval('findings_id_seq', (SELECT max(id) FROM findings))")
        cur.execute("SELECT setval('audit_log_id_seq', (SELECT max(id) FROM audit_log))")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE findings")
        cur.execute("VACUUM ANALYZE audit_log")
    return count, time.perf_counter() - start
