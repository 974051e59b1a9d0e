"""The demo campus's places, and a term of department and centre rounds whose checks prove (or miss) coverage."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from engine import public, rounds
from engine.actors import Actor
from engine.models import Finding, InspectionRound, PublicReport
from engine.places import registry
from engine.unit_of_work import UnitOfWork

KINDS = {"canteen": "canteen", "dorm": "dormitory", "building": "teaching", "grounds": "outdoor", "plant": "energy",
         "hall": "service_hall"}
OFFICE_BUILDINGS = {"行政楼"}
TERM_WEEKS = 16
# When inspectors look, by kind and period: canteens at lunch more than at breakfast, dormitories seldom at night,
# late snacks hardly ever — so coverage has gaps worth reporting.
PERIOD_TIMES = {"breakfast": (time(7, 0), 4), "lunch": (time(11, 30), 10), "dinner": (time(17, 30), 5),
                "late": (time(21, 30), 1), "day": (time(10, 0), 10), "night": (time(22, 30), 2),
                "classes": (time(9, 30), 10), "closed": (time(22, 0), 1), "office_hours": (time(10, 0), 10),
                "daylight": (time(15, 0), 10), "all_day": (time(10, 0), 10)}


@dataclass
class DemoPlaces:
    """The registered campus: each demo place name's building code, the places below it, and the term's rounds."""

    building: dict[str, str] = field(default_factory=dict)  # place name in engine.demo.PLACES -> code
    below: dict[str, list[str]] = field(default_factory=dict)  # building code -> codes of places inside
    unit_of: dict[str, str] = field(default_factory=dict)  # building code -> unit code
    kind_of: dict[str, str] = field(default_factory=dict)
    department_rounds: dict[int, int] = field(default_factory=dict)  # week index -> round id
    centre_rounds: dict[tuple[str, int], int] = field(default_factory=dict)  # (unit, week) -> round id
    term_start: datetime | None = None
    rng: random.Random | None = None  # where findings were found, apart from the findings' own draws


def build_places(uow: UnitOfWork, admin: Actor, places: dict, rng: random.Random) -> DemoPlaces:
    """Two campuses; canteens with floors and serving windows, dormitories and teaching buildings with floors and
    rooms, outdoor areas with points, energy facilities: a few hundred places."""
    out = DemoPlaces()

    def add(code, name, kind, parent=None, unit=None):
        registry.create_place(uow, admin, registry.PlaceInput(code, name, kind, parent, unit))
        return code

    add("MAIN", "主校区", "campus", unit="GAD")
    add("FC", "翡翠湖校区", "campus", unit="FEICUI")
    counter = 0
    for demo_kind, entries in places.items():
        for name, unit in entries:
            counter += 1
            kind = "office" if name in OFFICE_BUILDINGS else KINDS[demo_kind]
            code = add(f"P{counter:02d}", name, kind, "FC" if unit == "FEICUI" else "MAIN", unit)
            out.building[name], out.unit_of[code], out.kind_of[code] = code, unit, kind
            out.below[code] = _inside(add, code, kind)
    return out


def _inside(add, code: str, kind: str) -> list[str]:
    made = []
    if kind == "canteen":
        for floor in (1, 2):
            made.append(add(f"{code}-{floor}F", f"{floor}层", "floor", code))
            made += [add(f"{code}-{floor}F-W{w}", f"{w}号窗口", "window", f"{code}-{floor}F") for w in range(1, 7)]
    elif kind in ("dormitory", "teaching", "office"):
        for floor in range(1, 6 if kind != "office" else 4):
            made.append(add(f"{code}-{floor}F", f"{floor}层", "floor", code))
            points = ("东侧卫生间", "西侧卫生间", "开水间") if kind == "dormitory" else ("卫生间", "楼道")
            made += [add(f"{code}-{floor}F-{i}", name, "room" if "间" in name else "point", f"{code}-{floor}F")
                     for i, name in enumerate(points, 1)]
    elif kind == "outdoor":
        made += [add(f"{code}-{i}", name, "point", code) for i, name in enumerate(("路灯", "垃圾桶", "座椅"), 1)]
    return made


def plan_term(uow: UnitOfWork, campus: DemoPlaces, cast, now: datetime) -> None:
    """A department round and a self-inspection round per centre for each week of the term, all in progress."""
    zone = uow.calendar.zone
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday() + 7 * (TERM_WEEKS - 1))
    campus.term_start = datetime.combine(monday, time(0), zone)
    centres = sorted(set(campus.unit_of.values()))
    for week in range(TERM_WEEKS):
        start = datetime.combine(monday + timedelta(weeks=week), time(0), zone)
        iso = start.isocalendar()
        inspector = cast.actors[cast.inspectors[week % len(cast.inspectors)]]
        campus.department_rounds[week] = _round(uow, inspector, f"{iso.year}年第{iso.week}周常规巡查", "department",
                                                None, start, [n for n in cast.inspectors])
        for unit in centres:
            centre = cast.centre(unit)
            name = f"{iso.year}年第{iso.week}周{cast.unit_names[unit]}自查"
            campus.centre_rounds[(unit, week)] = _round(uow, centre, name, "centre", unit, start, [centre.name])


def _round(uow, actor, name, level, unit, start, inspectors) -> int:
    row = rounds.plan_round(uow, actor, rounds.RoundInput(name, level, unit, tuple(inspectors), start,
                                                          start + timedelta(days=7)), now=start)
    rounds.move_round(uow, actor, row.id, "start", now=start)
    return row.id


def week_of(campus: DemoPlaces, at: datetime) -> int | None:
    if campus.term_start is None or at < campus.term_start:
        return None
    week = (at - campus.term_start).days // 7
    return week if week < TERM_WEEKS else None


def round_for(campus: DemoPlaces, source: str, unit: str, building: str, at: datetime) -> int | None:
    """The term's round a finding reported at `at` came from, if any (public reports come from no round)."""
    week = week_of(campus, at)
    if week is None or source == "public":
        return None
    if source == "department":
        return campus.department_rounds[week]
    if campus.unit_of.get(building) != unit:
        return None  # a centre inspects its own places
    return campus.centre_rounds.get((unit, week))


def record_checks(uow: UnitOfWork, campus: DemoPlaces, cast, config, rng: random.Random, now: datetime) -> int:
    """Checks through the term: the department looks at a dozen places a week, each centre at its own most days."""
    zone, made = uow.calendar.zone, 0
    buildings = sorted(campus.unit_of)
    for week in range(TERM_WEEKS):
        monday = campus.term_start + timedelta(weeks=week)
        plan = [(campus.department_rounds[week], cast.actors[rng.choice(cast.inspectors)], rng.sample(buildings, 12))]
        for unit in sorted(set(campus.unit_of.values())):
            own = [b for b in buildings if campus.unit_of[b] == unit]
            picks = [rng.choice(own) for _ in range(min(12, 3 * len(own)))]
            plan.append((campus.centre_rounds[(unit, week)], cast.centre(unit), picks))
        for round_id, actor, picks in plan:
            for building in picks:
                periods = config.kinds[campus.kind_of[building]].periods
                names = list(periods)
                period = rng.choices(names, weights=[PERIOD_TIMES[p][1] for p in names])[0]
                day = (monday + timedelta(days=rng.randrange(7))).astimezone(zone).date()
                when = datetime.combine(day, PERIOD_TIMES[period][0], zone) + timedelta(minutes=rng.randint(0, 50))
                if when >= now:
                    continue
                place = rng.choice([building, *campus.below[building]])
                rounds.record_check(uow, actor, round_id, rounds.CheckInput(place, when), now=now)
                made += 1
    return made


def finish_term(uow: UnitOfWork, campus: DemoPlaces, now: datetime) -> None:
    """Rounds of past weeks are done; this week's stay in progress."""
    for week in range(TERM_WEEKS - 1):
        for round_id in [campus.department_rounds[week],
                         *(rid for (unit, w), rid in campus.centre_rounds.items() if w == week)]:
            row = uow.session.get(InspectionRound, round_id)
            row.state, row.finished_at = "done", campus.term_start + timedelta(weeks=week + 1)


def check_finding(uow: UnitOfWork, actor: Actor, round_id: int, place: str, finding_id: int, at: datetime,
                  now: datetime) -> None:
    """The check a finding reported in a round was recorded at."""
    rounds.record_check(uow, actor, round_id, rounds.CheckInput(place, at, findings=(finding_id,)), now=now)


# 公众参与: most of the demo's public reports come through a place's QR code (the others from students'
# and staff members' own accounts). The demo's categories, as the QR page's list names them.
QR_CATEGORIES = {"卫生": "环境卫生", "安全": "安全隐患", "服务态度": "服务质量", "劳动纪律": "服务质量",
                 "绿化": "绿化养护", "能耗": "能源管理", "设施设备": "设施设备", "食品安全": "食品安全"}
CONTACTS = ("", "", "13912345678", "lin.xiao@stu.example.edu.cn", "黄老师 0551-62901234")
STARS = ((5, 4, 3, 2, 1), (40, 30, 15, 10, 5))


def qr_report(uow: UnitOfWork, campus: DemoPlaces, where: str, category: str, description: str,
              at: datetime) -> int | None:
    """Report through the QR page's use case when the draw says so; None: the caller reports as before."""
    wanted = QR_CATEGORIES.get(category)
    if campus.rng.random() < 0.3 or wanted not in public.categories(uow):
        return None
    row = public.submit(uow, public.Submission(where, wanted, description, campus.rng.choice(CONTACTS)), now=at)
    return row.finding_id


def rate_public_reports(uow: UnitOfWork, campus: DemoPlaces, now: datetime) -> int:
    """Most reporters of a closed QR report rate it (满意度) a few hours to two days after its last change."""
    rated = 0
    rows = uow.session.execute(sa.select(PublicReport.receipt, Finding.updated_at)
                               .join(Finding, Finding.id == PublicReport.finding_id)
                               .order_by(PublicReport.id)).all()
    for receipt, changed in rows:
        at = changed + timedelta(hours=campus.rng.uniform(2, 48))
        if at >= now or campus.rng.random() < 0.2 or not public.receipt(uow, receipt).may_rate:
            continue
        public.rate(uow, receipt, campus.rng.choices(*STARS)[0], now=at)
        rated += 1
    return rated
