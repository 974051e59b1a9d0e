"""The read side: findings as a caller may see them, their history, the audit log and workflow versions."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine import audit, keyset, policy, public, services
from engine.actors import Actor, unit_subtree
from engine.db import utcnow
from engine.directory import UnitRef
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import SEVERITIES, AuditEntry, Commendation, Finding, Sanction, Unit, WorkflowVersion
from engine.unit_of_work import UnitOfWork
from workflows.model import Transition, Workflow

AUDIT_READERS = ("auditor", "admin")
MAX_PER_PAGE = 100
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
# Sort keys a caller may ask for; ties are always broken by id so pages never overlap.
SORTS = {
    "id": Finding.id, "created_at": Finding.created_at, "updated_at": Finding.updated_at,
    "due_at": Finding.due_at, "state": Finding.state,
    # by rank as SEVERITIES lists them (low < normal < high < critical), not alphabetically
    "severity": sa.case(SEVERITY_RANK, value=Finding.severity, else_=len(SEVERITIES)),
}


@dataclass
class FindingView:
    """A finding with its compiled workflow and, for a single finding, the events the caller may fire now."""

    finding: Finding
    workflow: Workflow
    unit: UnitRef
    reporter: str | None
    events: list[Transition] | None = None
    repeat_of: int | None = None  # the finding it repeats, when the caller may see that one
    contact: str | None = None  # a public reporter's contact, for inspectors and administrators (single finding)


@dataclass
class FindingFilters:
    state: list[str] = field(default_factory=list)
    unit: str | None = None  # unit code; includes the units below it
    category: str | None = None
    location: str | None = None  # substring
    source: str | None = None
    severity: str | None = None
    inspection_round: str | None = None
    overdue: bool | None = None
    repeat: bool | None = None  # 屡查屡犯: repeats earlier findings at the same place
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    q: str | None = None


@dataclass
class Page:
    items: list
    next_cursor: int | None = None  # keyset pagination (sort by id): pass as `cursor`
    next_page: int | None = None  # offset pagination: pass as `page`
    after: str | None = None  # keyset pagination under any sort but due_at: pass as `after`


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the wildcards a user typed taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_findings(uow: UnitOfWork, actor: Actor, filters: FindingFilters, *, sort: str = "-id",
                  cursor: int | None = None, page: int | None = None, after: str | None = None,
                  per_page: int = 20, now: datetime | None = None) -> Page:
    """One page of the findings the actor may see: keyset pages when sorted by id (`cursor`) or given `after`
    (any sort but due_at), else numbered pages."""
    session, now = uow.session, now or utcnow()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key not in SORTS:
        raise InvalidFields({"sort": f"must be one of {', '.join(sorted(SORTS))}, optionally prefixed by -"})
    if after is not None and (key not in keyset.KEYED or page is not None):
        raise InvalidFields({"after": "cannot be combined with `page`" if page is not None else
                                      f"pages sorted by {key} are numbered: use `page`"})
    query = sa.select(Finding).where(policy.visible(uow, actor), *_finding_conditions(uow, filters, now))
    column = SORTS[key]
    order = [column.desc() if descending else column.asc()]
    if key != "id":
        order.append(Finding.id.desc() if descending else Finding.id.asc())
    if after is not None:
        query = query.where(keyset.after_condition(column, Finding.id, descending, *keyset.decode(sort, after)))
    elif key == "id" and cursor is not None and page is None:
        query = query.where(Finding.id < cursor if descending else Finding.id > cursor)
    numbered = page is not None or (key != "id" and after is None)
    if numbered:
        query = query.offset((max(page or 1, 1) - 1) * per_page)
    rows = list(session.scalars(query.order_by(*order).limit(per_page + 1)))
    more, rows = len(rows) > per_page, rows[:per_page]
    seen = policy.visible_ids(uow, actor, (f.repeat_of_id for f in rows if f.repeat_of_id is not None))
    items = [finding_view(uow, f, actor, with_events=False, seen=seen) for f in rows]
    if not more:
        return Page(items)
    last = rows[-1]
    following = keyset.encode(sort, _sort_value(last, key), last.id) if key in keyset.KEYED else None
    if numbered:
        return Page(items, next_page=max(page or 1, 1) + 1, after=following)
    return Page(items, next_cursor=last.id, after=following)


def _sort_value(finding: Finding, key: str):
    return SEVERITY_RANK.get(finding.severity, len(SEVERITIES)) if key == "severity" else getattr(finding, key)


SYSTEM_EVENTS = ("report", "migrate")  # written to the audit log by use cases, not by a workflow transition


def _known(uow: UnitOfWork, what: str) -> set[str]:
    """Every state (what="states") or event (what="events") of every stored workflow version."""
    session, names = uow.session, set(SYSTEM_EVENTS) if what == "events" else set()
    for name, number in session.execute(sa.select(WorkflowVersion.name, WorkflowVersion.number)):
        workflow = uow.registry.get(session, name, number)
        names.update(workflow.states if what == "states" else (t.event for t in workflow.transitions))
    return names


def _require_known(uow: UnitOfWork, field: str, values: list[str], what: str) -> None:
    """An unknown filter value is a mistake to name (422), not a question whose answer is 'nothing'."""
    known = _known(uow, what)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise InvalidFields({field: f"unknown {what[:-1]} {', '.join(map(repr, unknown))}; "
                                    f"known: {', '.join(sorted(known))}"})


def finding_select(uow: UnitOfWork, actor: Actor, filters: FindingFilters, now: datetime | None = None) -> sa.Select:
    """Every finding the actor may see that matches the filters of the list (for exports), by id."""
    return sa.select(Finding).where(policy.visible(uow, actor), *_finding_conditions(uow, filters, now or utcnow())) \
        .order_by(Finding.id)


def state_counts(uow: UnitOfWork, actor: Actor, filters: FindingFilters | None = None,
                 now: datetime | None = None) -> dict[tuple[str, str], int]:
    """How many findings the actor may see sit in each (workflow, state), filtered like `list_findings`."""
    conditions = _finding_conditions(uow, filters or FindingFilters(), now or utcnow())
    query = (sa.select(Finding.workflow_name, Finding.state, sa.func.count())
             .where(policy.visible(uow, actor), *conditions).group_by(Finding.workflow_name, Finding.state))
    return {(name, state): n for name, state, n in uow.session.execute(query)}


def waiting_states(uow: UnitOfWork, actor: Actor) -> list[str]:
    """States whose findings wait for one of the actor's roles: the first role a transition lists is the one it
    waits for (`respond: roles [centre]`, `assign: roles [inspector, admin]`); transitions the system may fire
    (escalation, reopening, archiving) wait for no one."""
    states: dict[str, None] = {}
    for info in active_workflows(uow):
        for t in info.workflow.transitions:
            if "system" not in t.roles and t.roles and t.roles[0] in actor.roles:
                states.update(dict.fromkeys(t.sources))
    return list(states)


def visible_ids(uow: UnitOfWork, actor: Actor, ids: list[int]) -> list[int]:
    """Those of `ids` the actor may see, in the order given (recurrence links shown only within reach)."""
    if not ids:
        return []
    seen = set(uow.session.scalars(sa.select(Finding.id).where(Finding.id.in_(ids), policy.visible(uow, actor))))
    return [i for i in ids if i in seen]


def verify_chain(uow: UnitOfWork, actor: Actor, finding_id: int | None = None) -> audit.ChainReport:
    """Recompute one finding's audit chain (or every chain) for an auditor or administrator."""
    require_audit_reader(actor)
    if finding_id is not None and uow.session.get(Finding, finding_id) is None:
        raise NotFound("finding", finding_id)
    return audit.verify(uow.session, finding_id)


def _finding_conditions(uow: UnitOfWork, filters: FindingFilters, now: datetime) -> list:
    conditions = []
    if filters.state:
        _require_known(uow, "state", filters.state, "states")
        conditions.append(Finding.state.in_(filters.state))
    if filters.unit:
        conditions.append(Finding.unit_id.in_(sorted(_unit_and_below(uow, filters.unit))))
    if filters.category:
        conditions.append(Finding.category == filters.category)
    if filters.location:
        conditions.append(Finding.location.like(like_pattern(filters.location), escape="\\"))
    if filters.source:
        conditions.append(Finding.source == filters.source)
    if filters.severity:
        conditions.append(Finding.severity == filters.severity)
    if filters.inspection_round:
        conditions.append(Finding.inspection_round == filters.inspection_round)
    if filters.overdue is not None:
        late = sa.and_(Finding.due_at.is_not(None), Finding.due_at < now)
        conditions.append(late if filters.overdue else sa.not_(late))
    if filters.repeat is not None:
        repeated = sa.or_(Finding.repeat_of_id.is_not(None), Finding.repeat_count > 0)
        conditions.append(repeated if filters.repeat else sa.not_(repeated))
    if filters.reported_from:
        conditions.append(Finding.created_at >= filters.reported_from)
    if filters.reported_to:
        conditions.append(Finding.created_at <= filters.reported_to)
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(sa.or_(*(column.ilike(pattern, escape="\\") for column in
                                   (Finding.title, Finding.description, Finding.location))))
    return conditions


def _unit_and_below(uow: UnitOfWork, code: str) -> frozenset[int]:
    unit_id = uow.session.scalar(sa.select(Unit.id).where(Unit.code == code))
    if unit_id is None:
        raise InvalidFields({"unit": f"no unit with code {code!r}"})
    return unit_subtree(uow.session, unit_id, uow.store.directory.parents(uow.session))


def finding_view(uow: UnitOfWork, finding: Finding, actor: Actor, *, with_events: bool = True,
                 seen: set[int] | None = None) -> FindingView:
    """The view of a finding already loaded (after a report or a transition); `seen`: ids of repeated findings
    the caller may see, when the caller has them already (a page of findings)."""
    session, names = uow.session, uow.store.directory
    workflow = uow.registry.get(session, finding.workflow_name, finding.workflow_version)
    events = services.possible_events(uow, finding, actor) if with_events else None
    repeat_of = finding.repeat_of_id
    if repeat_of is not None and repeat_of not in (seen if seen is not None else
                                                   policy.visible_ids(uow, actor, [repeat_of])):
        repeat_of = None
    # Only a single finding carries the reporter's contact (engine.public says who may read it).
    contact = public.contact_for(uow, actor, finding.id) if with_events and finding.source == "public" else None
    return FindingView(finding, workflow, names.unit(session, finding.unit_id),
                       names.user_name(session, finding.reporter_id), events, repeat_of, contact)


def get_finding(uow: UnitOfWork, finding_id: int, actor: Actor) -> FindingView:
    """One finding the actor may see, with the events it may fire now; others are not found."""
    return finding_view(uow, services.load_finding(uow, finding_id, actor), actor)


def history(uow: UnitOfWork, finding_id: int, actor: Actor) -> list[AuditEntry]:
    """Every audit row of a finding the actor may see, in order."""
    services.load_finding(uow, finding_id, actor)
    return list(uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == finding_id)
                                    .order_by(AuditEntry.seq)))


@dataclass
class AuditFilters:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    unit: str | None = None  # unit code; includes the units below it
    event: str | None = None
    workflow: str | None = None
    finding: int | None = None


def require_role(actor: Actor, roles: tuple[str, ...], doing: str) -> None:
    """Refuse an actor holding none of `roles` (for use cases no workflow transition governs)."""
    if not set(roles) & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not {doing}; it needs one of: {', '.join(roles)}", roles)


def require_audit_reader(actor: Actor) -> None:
    require_role(actor, AUDIT_READERS, "read the audit log")


def _audit_query(uow: UnitOfWork, filters: AuditFilters) -> sa.Select:
    query = sa.select(AuditEntry, Unit.code).join(Finding, Finding.id == AuditEntry.finding_id).join(
        Unit, Unit.id == Finding.unit_id)
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at <= filters.until)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.unit:
        query = query.where(Finding.unit_id.in_(sorted(_unit_and_below(uow, filters.unit))))
    if filters.event:
        _require_known(uow, "event", [filters.event], "events")
        query = query.where(AuditEntry.event == filters.event)
    if filters.workflow:
        query = query.where(AuditEntry.workflow_name == filters.workflow)
    if filters.finding is not None:
        query = query.where(AuditEntry.finding_id == filters.finding)
    return query


def audit_page(uow: UnitOfWork, actor: Actor, filters: AuditFilters, *, after: int | None = None,
               per_page: int = 50) -> Page:
    """Audit rows in the order written (by id), each as (entry, unit code); `next_cursor` continues after."""
    require_audit_reader(actor)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = _audit_query(uow, filters)
    if after is not None:
        query = query.where(AuditEntry.id > after)
    rows = [tuple(r) for r in uow.session.execute(query.order_by(AuditEntry.id).limit(per_page + 1))]
    if len(rows) > per_page:
        return Page(rows[:per_page], next_cursor=rows[per_page - 1][0].id)
    return Page(rows)


def export_audit(uow: UnitOfWork, actor: Actor, filters: AuditFilters,
                 batch: int = 1000) -> Iterator[tuple[AuditEntry, str]]:
    """Every matching audit row for a streamed export: permission and filters are checked now, in `uow`;
    the rows are read later, `batch` at a time, in a read-only unit of work of their own that lives as long
    as the iteration (a response body outlives its request's transaction)."""
    require_audit_reader(actor)
    _audit_query(uow, filters)

    def rows() -> Iterator[tuple[AuditEntry, str]]:
        with uow.store.uow(write=False) as reader:
            query = _audit_query(reader, filters).order_by(AuditEntry.id).execution_options(yield_per=batch)
            for row in reader.session.execute(query):
                yield tuple(row)

    return rows()


@dataclass
class WorkflowInfo:
    row: WorkflowVersion
    workflow: Workflow


def active_workflows(uow: UnitOfWork) -> list[WorkflowInfo]:
    session = uow.session
    rows = session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.active.is_(True))
                           .order_by(WorkflowVersion.name))
    return [WorkflowInfo(row, uow.registry.get(session, row.name, row.number)) for row in rows]


def workflow_version(uow: UnitOfWork, name: str, number: int | None = None) -> WorkflowInfo:
    """A stored version of workflow `name`: the active one unless `number` is given."""
    query = sa.select(WorkflowVersion).where(WorkflowVersion.name == name)
    query = query.where(WorkflowVersion.active.is_(True)) if number is None else query.where(
        WorkflowVersion.number == number)
    row = uow.session.scalars(query).first()
    if row is None:
        raise NotFound("workflow", name if number is None else f"{name} v{number}")
    return WorkflowInfo(row, uow.registry.get(uow.session, name, row.number))


def workflow_versions(uow: UnitOfWork, name: str) -> list[WorkflowVersion]:
    rows = list(uow.session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.name == name)
                                    .order_by(WorkflowVersion.number)))
    if not rows:
        raise NotFound("workflow", name)
    return rows


def loaded_workflows(uow: UnitOfWork) -> list[tuple[str, int]]:
    """(name, active version) of every workflow; raises the driver's error when the database is unreachable."""
    return [tuple(r) for r in uow.session.execute(
        sa.select(WorkflowVersion.name, WorkflowVersion.number).where(WorkflowVersion.active.is_(True))
        .order_by(WorkflowVersion.name))]


def list_units(uow: UnitOfWork) -> list[Unit]:
    """Every unit, by code, with its parent (unit names are not secret: every report names one)."""
    return list(uow.session.scalars(sa.select(Unit).options(orm.joinedload(Unit.parent)).order_by(Unit.code)))


def unit_codes(uow: UnitOfWork) -> dict[int, str]:
    return dict(uow.session.execute(sa.select(Unit.id, Unit.code)).all())


def get_record(uow: UnitOfWork, actor: Actor, model: type[Sanction] | type[Commendation], record_id: int):
    """One sanction or commendation of a unit the actor may see; others are not found."""
    row = uow.session.get(model, record_id)
    visible = policy.visible_units(uow, actor)
    if row is None or (visible is not None and row.unit_id not in visible):
        raise NotFound(model.__tablename__.removesuffix("s"), record_id)
    return row
