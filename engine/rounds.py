"""Inspection rounds (巡查轮次) and their checks: plan, start, record what was looked at, finish."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine import policy
from engine.actors import Actor, unit_subtree
from engine.db import utcnow
from engine.errors import InvalidEvent, InvalidFields, MissingFields, NotAllowed, NotFound
from engine.models import LEVELS, Check, Finding, InspectionRound, Place, Unit, User, WorkflowVersion
from engine.places import tree
from engine.places.config import current_config
from engine.places.periods import moment
from engine.unit_of_work import UnitOfWork
from workflows.places import PlaceConfig

EVENTS = {"start": ("planned", "in_progress"), "finish": ("in_progress", "done")}
RESULTS = ("ok", "findings")
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead is not a check in the future


@dataclass(frozen=True)
class RoundInput:
    name: str
    level: str
    unit: str | None = None  # the centre inspecting itself (required at centre level)
    inspectors: tuple[str, ...] = ()
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    places: tuple[str, ...] = ()  # codes; each with everything below it
    subtree: str | None = None
    kind: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class CheckInput:
    place: str
    at: datetime | None = None
    result: str | None = None  # ok | findings; derived from `findings` when left out
    findings: tuple[int, ...] = ()
    note: str = ""


@dataclass
class RoundView:
    round: InspectionRound
    unit_code: str | None
    checks: list[tuple[Check, str]] = field(default_factory=list)  # (check, place code)
    findings: list[Finding] = field(default_factory=list)


def _scopes(uow: UnitOfWork) -> dict[str, str]:
    """role -> scope across the active workflows (a unit-scoped role acts only for the units it reaches)."""
    cached = uow.memo.get("role_scopes")  # asked several times per check
    if cached is not None:
        return cached
    scopes: dict[str, str] = {}
    for name, number in uow.session.execute(sa.select(WorkflowVersion.name, WorkflowVersion.number)
                                            .where(WorkflowVersion.active.is_(True))):
        for role in uow.registry.get(uow.session, name, number).roles.values():
            scopes.setdefault(role.name, role.scope)
    uow.memo["role_scopes"] = scopes
    return scopes


def require_round_role(uow: UnitOfWork, config: PlaceConfig, actor: Actor, level: str, what: str,
                       unit_id: int | None) -> str:
    """The actor's role allowed to `what` (plan | check) at `level`; unit-scoped roles only for their units."""
    allowed = config.round_roles.get(level, {}).get(what, ())
    scopes = _scopes(uow)
    for role in actor.roles:
        if role in allowed and (scopes.get(role, "all") == "all" or unit_id is not None and actor.can_reach(unit_id)):
            return role
    doing = {"plan": "plan", "check": "record checks in"}[what]
    raise NotAllowed(f"{actor.name} may not {doing} {level} rounds"
                     f"{' of this unit' if unit_id else ''}; it needs one of: {', '.join(allowed)}", allowed)


def plan_round(uow: UnitOfWork, actor: Actor, data: RoundInput, *, now: datetime | None = None) -> InspectionRound:
    """A new round in state `planned`."""
    session, config, now = uow.session, current_config(uow), now or utcnow()
    problems = {}
    if not (data.name or "").strip():
        problems["name"] = "required"
    if data.level not in LEVELS:
        problems["level"] = f"must be one of {', '.join(LEVELS)}"
    if data.level == "centre" and not data.unit:
        problems["unit"] = "a centre's self-inspection names the unit inspecting itself"
    if data.planned_start and data.planned_end and data.planned_end < data.planned_start:
        problems["planned_end"] = "the round ends before it starts"
    if sum(bool(x) for x in (data.places, data.subtree, data.kind)) > 1:
        problems["plan"] = "plan a list of places, a subtree or a kind, not several"
    if data.kind and config.kind_named(data.kind) is None:
        problems["kind"] = f"unknown kind {data.kind!r}"
    if problems:
        raise (MissingFields if all(v == "required" for v in problems.values()) else InvalidFields)(problems)
    unit_id = None
    if data.unit:
        unit_id = session.scalar(sa.select(Unit.id).where(Unit.code == data.unit))
        if unit_id is None:
            raise InvalidFields({"unit": f"no unit with code {data.unit!r}"})
    require_round_role(uow, config, actor, data.level, "plan", unit_id)
    for code in (*data.places, *([data.subtree] if data.subtree else [])):
        tree.by_code(session, code, field="places" if data.places else "subtree")
    inspectors = list(dict.fromkeys(data.inspectors)) or [actor.name]
    known = set(session.scalars(sa.select(User.name).where(User.name.in_(inspectors))))
    if unknown := [n for n in inspectors if n not in known]:
        raise InvalidFields({"inspectors": f"no user(s) {', '.join(unknown)}"})
    plan = ({"places": list(data.places)} if data.places else {"subtree": data.subtree} if data.subtree
            else {"kind": config.kind_named(data.kind)} if data.kind else {})
    row = InspectionRound(name=data.name.strip(), level=data.level, unit_id=unit_id, inspectors=inspectors,
                          planned_start=data.planned_start, planned_end=data.planned_end, plan=plan,
                          notes=data.notes or "", state="planned", created_by=actor.name, created_at=now)
    session.add(row)
    session.flush()
    return row


def visible(uow: UnitOfWork, actor: Actor) -> sa.ColumnElement[bool] | None:
    """SQL condition on rounds the actor may see (None: all). Centre users see department rounds and their own."""
    scopes = _scopes(uow)
    if any(scopes.get(r) == "all" for r in actor.roles):
        return None
    if any(scopes.get(r) == "unit" for r in actor.roles):
        return sa.or_(InspectionRound.level == "department", InspectionRound.unit_id.in_(actor.reach or {-1}))
    return sa.false()


def load_round(uow: UnitOfWork, actor: Actor, round_id: int, *, for_update: bool = False) -> InspectionRound:
    query = sa.select(InspectionRound).where(InspectionRound.id == round_id)
    condition = visible(uow, actor)
    if condition is not None:
        query = query.where(condition)
    if for_update and uow.dialect == "postgresql":
        query = query.with_for_update()
    row = uow.session.scalar(query)
    if row is None:
        raise NotFound("round", round_id)
    return row


def move_round(uow: UnitOfWork, actor: Actor, round_id: int, event: str, *,
               now: datetime | None = None) -> InspectionRound:
    """start (planned → in_progress) or finish (in_progress → done), by those who may plan rounds of its level."""
    row = load_round(uow, actor, round_id, for_update=True)
    if event not in EVENTS or row.state != EVENTS[event][0]:
        raise InvalidEvent(row.state, event, [e for e, (src, _) in EVENTS.items() if src == row.state])
    config = current_config(uow)
    try:
        require_round_role(uow, config, actor, row.level, "plan", row.unit_id)
    except NotAllowed:
        if actor.name not in row.inspectors:
            raise
    now = now or utcnow()
    row.state = EVENTS[event][1]
    if event == "start":
        row.started_at = now
    else:
        row.finished_at = now
    uow.session.flush()
    return row


def record_check(uow: UnitOfWork, actor: Actor, round_id: int, data: CheckInput, *,
                 now: datetime | None = None) -> Check:
    """Record that a place was looked at in a round: `ok`, or the findings reported there."""
    session, config, now = uow.session, current_config(uow), now or utcnow()
    row = load_round(uow, actor, round_id, for_update=True)
    require_round_role(uow, config, actor, row.level, "check", row.unit_id)
    if row.state != "in_progress":
        raise InvalidEvent(row.state, "check", [e for e, (src, _) in EVENTS.items() if src == row.state])
    place = tree.by_code(session, data.place, field="place")
    at = data.at or now
    problems = {}
    if not place.active:
        problems["place"] = f"place {place.code!r} is deactivated"
    elif not _planned(session, row, place):
        problems["place"] = f"place {place.code!r} is not among the places this round planned"
    elif row.level == "centre" and place.unit_id is not None and \
            place.unit_id not in unit_subtree(session, row.unit_id, uow.store.directory.parents(session)):
        problems["place"] = f"place {place.code!r} is another unit's; a self-inspection checks its own places"
    if at > now + CLOCK_SKEW:
        problems["at"] = "a check cannot lie in the future"
    result = data.result or ("findings" if data.findings else "ok")
    if result not in RESULTS:
        problems["result"] = f"must be one of {', '.join(RESULTS)}"
    elif (result == "findings") != bool(data.findings):
        problems["findings"] = ("name the findings reported at this check" if result == "findings"
                                else "a check with findings has result 'findings'")
    if problems:
        raise InvalidFields(problems)
    findings = _findings_here(uow, actor, row, place, data.findings)
    covers = _service_place(session, config, place)
    when = moment(uow.calendar, config.kinds.get(covers.kind), at)
    check = Check(round_id=row.id, place_id=place.id, covers_id=covers.id, level=row.level, at=at,
                  period=when.period, day_type=when.day_type, service_day=when.service_day,
                  day_number=when.day_number, month_number=when.month_number, result=result,
                  inspector=actor.name, note=data.note or "", created_at=now)
    session.add(check)
    session.flush()
    for finding in findings:
        finding.check_id, finding.round_id = check.id, row.id
        finding.place_id = finding.place_id or place.id
        finding.inspection_round = finding.inspection_round or row.name[:100]
    return check


def _planned(session, row: InspectionRound, place: Place) -> bool:
    plan = row.plan or {}
    ancestors = set(tree.path_ids(place))
    if plan.get("places"):
        ids = set(session.scalars(sa.select(Place.id).where(Place.code.in_(plan["places"]))))
        return bool(ids & ancestors)
    if plan.get("subtree"):
        root = session.scalar(sa.select(Place.id).where(Place.code == plan["subtree"]))
        return root in ancestors
    if plan.get("kind"):
        return plan["kind"] in set(session.scalars(sa.select(Place.kind).where(Place.id.in_(ancestors))))
    return True


def _service_place(session, config: PlaceConfig, place: Place) -> Place:
    """The place itself, or its nearest ancestor whose kind has service periods (a window counts for its canteen)."""
    kind = config.kinds.get(place.kind)
    if kind is not None and kind.periods:
        return place
    chain = {p.id: p for p in session.scalars(sa.select(Place).where(Place.id.in_(tree.path_ids(place))))}
    for place_id in reversed(tree.path_ids(place)):
        candidate = chain.get(place_id)
        if candidate is not None and (k := config.kinds.get(candidate.kind)) is not None and k.periods:
            return candidate
    return place


def _findings_here(uow: UnitOfWork, actor: Actor, row: InspectionRound, place: Place,
                   ids: tuple[int, ...]) -> list[Finding]:
    from engine import services  # visibility of findings is services' rule

    found = []
    for finding_id in dict.fromkeys(ids):
        try:
            finding = services.load_finding(uow, finding_id, actor)
        except NotFound:
            raise InvalidFields({"findings": f"no finding {finding_id}"}) from None
        if finding.round_id not in (None, row.id):
            raise InvalidFields({"findings": f"finding {finding_id} was reported in another round"})
        if finding.check_id is not None:
            raise InvalidFields({"findings": f"finding {finding_id} belongs to another check already"})
        if finding.place_id is not None:
            other = uow.session.get(Place, finding.place_id)
            if place.id not in tree.path_ids(other):
                raise InvalidFields({"findings": f"finding {finding_id} is at another place ({other.code})"})
        found.append(finding)
    return found


@dataclass(frozen=True)
class RoundFilters:
    level: str | None = None
    state: str | None = None
    unit: str | None = None


def list_rounds(uow: UnitOfWork, actor: Actor, filters: RoundFilters, *, limit: int = 200) -> list[RoundView]:
    """Rounds the actor may see, newest first, with their check counts."""
    query = sa.select(InspectionRound, Unit.code).outerjoin(Unit, InspectionRound.unit_id == Unit.id)
    condition = visible(uow, actor)
    if condition is not None:
        query = query.where(condition)
    if filters.level:
        query = query.where(InspectionRound.level == filters.level)
    if filters.state:
        query = query.where(InspectionRound.state == filters.state)
    if filters.unit:
        query = query.where(Unit.code == filters.unit)
    rows = uow.session.execute(query.order_by(InspectionRound.id.desc()).limit(limit)).all()
    return [RoundView(r, code) for r, code in rows]


def check_counts(uow: UnitOfWork, round_ids: list[int]) -> dict[int, tuple[int, int]]:
    """round id -> (checks, checks with findings)."""
    query = (sa.select(Check.round_id, sa.func.count(),
                       sa.func.sum(sa.case((Check.result == "findings", 1), else_=0)))
             .where(Check.round_id.in_(round_ids)).group_by(Check.round_id))
    return {rid: (n, int(f or 0)) for rid, n, f in uow.session.execute(query)}


def get_round(uow: UnitOfWork, actor: Actor, round_id: int) -> RoundView:
    """A round with its checks (and the place each looked at) and the findings reported in it."""
    row = load_round(uow, actor, round_id)
    session = uow.session
    unit_code = session.scalar(sa.select(Unit.code).where(Unit.id == row.unit_id)) if row.unit_id else None
    checks = [tuple(r) for r in session.execute(sa.select(Check, Place.code).join(Place, Check.place_id == Place.id)
                                                .where(Check.round_id == row.id).order_by(Check.at, Check.id))]
    findings = list(session.scalars(sa.select(Finding).where(Finding.round_id == row.id, policy.visible(uow, actor))
                                    .order_by(Finding.id)))
    return RoundView(row, unit_code, checks, findings)
