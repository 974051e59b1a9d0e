"""Finding use cases, one function each; `advance` is the one path every state change takes."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from engine import audit, deadlines, messagebus, policy
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import (
    GuardRefused,
    InvalidEvent,
    InvalidFields,
    InvalidInput,
    MissingFields,
    NotAllowed,
    NotFound,
    VersionConflict,
)
from engine.events import FindingAdvanced, FindingReported
from engine.fields import field_problems
from engine.models import SEVERITIES, SOURCES, Attachment, Finding, Unit
from engine.unit_of_work import UnitOfWork
from workflows.model import Transition, Workflow

DEFAULT_WORKFLOW = "finding"


@dataclass(frozen=True)
class Report:
    """What a reporter says about a new finding."""

    title: str
    category: str
    location: str
    unit: str  # unit code
    source: str = "department"
    severity: str = "normal"
    description: str = ""
    inspection_round: str | None = None
    workflow: str = DEFAULT_WORKFLOW
    place: str | None = None  # place code; the unit and location default from it
    round: int | None = None  # id of the inspection round it was found in


def report_finding(uow: UnitOfWork, actor: Actor, report: Report, *, comment: str | None = None,
                   now: datetime | None = None) -> Finding:
    """Record a new finding in its workflow's initial state, with the first row of its audit chain."""
    session, now = uow.session, now or utcnow()
    report, origin = _origin(uow, actor, report)
    _check_report(report)
    unit = session.scalar(sa.select(Unit).where(Unit.code == report.unit))
    if unit is None:
        raise InvalidFields({"unit": f"no unit with code {report.unit!r}"})
    version, workflow = uow.registry.active(session, report.workflow)
    role = policy.reporting_role(workflow, actor, unit.id)
    if workflow.roles[role].scope == "own" and report.source != "public":
        # Students and staff report through the public channel; their reports are triaged as such.
        raise InvalidFields({"source": f"a {role} report has source 'public'"})
    finding = Finding(
        title=report.title.strip(), description=report.description, category=report.category.strip(),
        location=report.location.strip(), unit_id=unit.id, source=report.source, severity=report.severity,
        reporter_id=actor.user_id, inspection_round=report.inspection_round, workflow_name=workflow.name,
        workflow_version=version.number, state=workflow.initial, version=1, created_at=now, updated_at=now,
        place_id=origin.place_id, round_id=origin.round_id, found_by=origin.found_by,
    )
    enter_state(uow, workflow, finding, now)
    session.add(finding)
    session.flush()
    for key, value in log_change(session, finding, "report", None, finding.state, actor, role, now, {},
                                 comment).items():
        setattr(finding, key, value)
    messagebus.publish(uow, FindingReported(finding, actor, now))
    return finding


IMPORT_EVENT = "import"  # the first row of a finding brought in from a past record
IMPORTERS = ("admin",)


@dataclass(frozen=True)
class PastRecord:
    """What a past record (a row of an office's ledger) says beyond the report: its state, dates and reply."""

    state: str
    reported_at: datetime
    due_at: datetime | None = None
    closed_at: datetime | None = None
    reply: str | None = None


def import_finding(uow: UnitOfWork, actor: Actor, report: Report, past: PastRecord, provenance: dict, *,
                   now: datetime | None = None) -> Finding:
    """Bring in a finding from a past record: it keeps its dates and starts in the state the record says,
    its chain beginning with one `import` row (who, when, and `provenance`: the file's sha256 and row).

    An administrator reports through the workflow's reporting path; no rule reacts (the record is history)."""
    session, now = uow.session, now or utcnow()
    if not set(IMPORTERS) & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not import findings; it needs one of: {', '.join(IMPORTERS)}",
                         IMPORTERS)
    _check_report(report)
    unit = session.scalar(sa.select(Unit).where(Unit.code == report.unit))
    if unit is None:
        raise InvalidFields({"unit": f"no unit with code {report.unit!r}"})
    version, workflow = uow.registry.active(session, report.workflow)
    role = policy.reporting_role(workflow, actor, unit.id)
    state = workflow.states.get(past.state)
    if state is None:
        raise InvalidFields({"state": f"no state {past.state!r} in workflow {workflow.name!r}"})
    finding = Finding(
        title=report.title.strip(), description=report.description, category=report.category.strip(),
        location=report.location.strip(), unit_id=unit.id, source=report.source, severity=report.severity,
        reporter_id=actor.user_id, inspection_round=report.inspection_round, workflow_name=workflow.name,
        workflow_version=version.number, state=state.name, version=1, created_at=past.reported_at,
        updated_at=now)
    enter_state(uow, workflow, finding, now)
    if past.due_at is not None or state.closed or state.final:
        finding.due_at, finding.remind_at = (None, None) if state.closed or state.final else (past.due_at, None)
        finding.sweep_at = finding.due_at
    if state.closed or state.final:
        finding.closed_at = past.closed_at or now
        late = past.due_at is not None and past.closed_at is not None and past.closed_at > past.due_at
        # A final state reached only without closing (dismissed) was never rectified: no on-time verdict.
        was_closed = state.closed or any(t.dest == state.name and any(workflow.states[s].closed for s in t.sources)
                                         for t in workflow.transitions)
        finding.closed_on_time = (not late) if was_closed else None
    finding.state_entered_at = finding.closed_at if state.closed or state.final else past.reported_at
    session.add(finding)
    session.flush()
    payload = {**provenance, "reported_at": audit.canonical_time(past.reported_at),
               **({"reply": past.reply} if past.reply else {})}
    for key, value in log_change(session, finding, IMPORT_EVENT, None, finding.state, actor, role, now, payload,
                                 None).items():
        setattr(finding, key, value)
    return finding


def advance(uow: UnitOfWork, finding_id: int, event: str, actor: Actor, payload: dict | None = None, *,
            comment: str | None = None, expected_version: int | None = None, now: datetime | None = None,
            also_count: tuple[str, ...] = (), rule: str | None = None, _for_update: bool = True) -> Finding:
    """Fire `event` on a finding: check role, unit, fields and guard, move it, and append its audit row.

    `rule` names the rule on whose behalf the system fires the event (recorded in the payload and the
    audit row); handlers see it on the `FindingAdvanced` event, so a rule's reaction never sets rules off."""
    session, now, payload = uow.session, now or utcnow(), dict(payload or {})
    if rule is not None:
        payload["rule"] = rule
    finding = load_finding(uow, finding_id, actor, for_update=_for_update)
    if expected_version is not None and finding.version != expected_version:
        raise VersionConflict(expected_version, finding.version)
    workflow = uow.registry.get(session, finding.workflow_name, finding.workflow_version)
    transition, role = choose_transition(uow, workflow, finding, event, actor, payload)
    from_state = finding.state
    token = _MachineToken(from_state)
    if not workflow.machine.events[event].trigger(token, chosen=transition.index):
        raise AssertionError(f"machine refused transition chosen by the engine: {event} from {from_state}")
    # `also_count`: counters the caller's reason for the event adds (the sweep's 查而不改) to the transition's own
    values = {counter: getattr(finding, counter) + 1 for counter in (*transition.increment, *also_count)}
    if (deadline := deadlines.requested(uow.calendar, workflow, actor, payload, now)) is not None:
        values["deadline_at"] = deadline
    values.update(state_clock(uow, workflow, finding, token.state, now, deadline=values.get("deadline_at")))
    values.update(state=token.state, version=finding.version + 1, updated_at=now)
    values.update(log_change(session, finding, event, from_state, token.state, actor, role, now, payload, comment,
                             changes=values))
    _write(session, finding, values)
    messagebus.publish(uow, FindingAdvanced(finding, transition, from_state, actor, role, payload, now, rule))
    return finding


def record_event(uow: UnitOfWork, finding: Finding, event: str, actor: Actor, role: str, payload: dict, *,
                 changes: dict | None = None, now: datetime | None = None) -> Finding:
    """Log what the system learnt about a finding without moving it (the earlier findings it repeats), with
    the columns that change (`changes`), so the audit log can replay every column a scorecard reads.

    The state stays, the version moves on: the finding's history changed, so its ETag must too."""
    session, now = uow.session, now or utcnow()
    values = {**(changes or {}), "version": finding.version + 1, "updated_at": now}
    values.update(log_change(session, finding, event, finding.state, finding.state, actor, role, now, payload,
                             None, changes=values))
    _write(session, finding, values)
    return finding


class _MachineToken:
    """What the shared machine moves: just a state. The engine writes the result itself (see `_write`)."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


# The statements of the hot path are built once; their SET clauses follow the keys of each call's parameters.
_UPDATE = sa.update(Finding.__table__).where(Finding.__table__.c.id == sa.bindparam("_finding"))
_LOAD = sa.select(Finding).where(Finding.id == sa.bindparam("_finding"))
# Refresh what the session may already hold (a rule's earlier findings): decide on the locked row.
_LOAD_LOCKED = _LOAD.with_for_update().execution_options(populate_existing=True)


def _write(session: orm.Session, finding: Finding, values: dict) -> None:
    # One UPDATE through Core, then the loaded object is told these are the stored values: the ORM's flush
    # machinery would cost more than the rest of an advance, and there is nothing left for it to do.
    session.execute(_UPDATE, {**values, "_finding": finding.id})
    for key, value in values.items():
        orm.attributes.set_committed_value(finding, key, value)


def _origin(uow: UnitOfWork, actor: Actor, report: Report):
    if report.place is None and report.round is None:  # the common path stays free of place lookups
        source = report.source or "department"
        return replace(report, source=source), _places().Origin(None, None, _places().FOUND_BY_SOURCE.get(source,
                                                                                                          "other"))
    return _places().resolve(uow, actor, report)


def _places():
    from engine.places import findings  # it reads rounds, which import this module

    return findings


def load_finding(uow: UnitOfWork, finding_id: int, actor: Actor, *, for_update: bool = False) -> Finding:
    """The finding, if the actor may see it; one it may not see is reported as not found, so nothing leaks."""
    query = _LOAD_LOCKED if for_update and uow.dialect == "postgresql" else _LOAD
    finding = uow.session.scalars(query, {"_finding": finding_id}).first()
    if finding is None:
        raise NotFound("finding", finding_id)
    workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
    if not policy.may_see(workflow, actor, finding):
        raise NotFound("finding", finding_id)
    return finding


def choose_transition(uow: UnitOfWork, workflow: Workflow, finding: Finding, event: str, actor: Actor,
                      payload: dict) -> tuple[Transition, str]:
    """The first transition for `event` that the actor may fire and whose fields and guard pass."""
    candidates = workflow.outgoing(finding.state, event)
    if not candidates:
        raise InvalidEvent(finding.state, event, workflow.events_from(finding.state))
    permitted = [(t, role) for t in candidates if (role := policy.acting_role(workflow, t, actor, finding))]
    if not permitted:
        needed = sorted({r for t in candidates for r in t.roles})
        raise NotAllowed(f"{actor.name} ({', '.join(actor.roles) or 'no role'}) may not fire {event!r} on "
                         f"this finding; it needs one of: {', '.join(needed)}", needed)
    first_fields, refused = None, None
    for transition, role in permitted:
        problems, only_missing = field_problems(transition, payload)
        if not problems:
            problems = _attachment_problems(uow, transition, payload, finding)
            only_missing = False
        if problems:
            first_fields = first_fields or (problems, only_missing)
            continue
        if transition.guard and not transition.guard.allows(
                guard_view(finding), payload, actor.as_guard_context(role)):
            refused = refused or transition
            continue
        return transition, role
    if refused is not None:
        reason = refused.reason
        raise GuardRefused(reason.zh if reason else f"refused by rule: {refused.guard.source}",
                           reason.en if reason else None, refused.guard.source)
    problems, only_missing = first_fields
    raise (MissingFields if only_missing else InvalidFields)(problems)


def possible_events(uow: UnitOfWork, finding: Finding, actor: Actor) -> list[Transition]:
    """Transitions the actor could fire now, one per event (their fields and labels tell a client what to ask)."""
    workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
    seen: dict[str, Transition] = {}
    for t in workflow.outgoing(finding.state):
        if t.event not in seen and policy.acting_role(workflow, t, actor, finding):
            seen[t.event] = t
    return list(seen.values())


def guard_view(finding: Finding) -> dict:
    """What a guard may read of a finding."""
    return {
        "id": finding.id, "title": finding.title, "category": finding.category, "location": finding.location,
        "source": finding.source, "severity": finding.severity, "state": finding.state,
        "failed_verifications": finding.failed_verifications, "reopenings": finding.reopenings,
        "overdue_count": finding.overdue_count, "repeat_count": finding.repeat_count,
    }


def _check_report(report: Report) -> None:
    problems = {}
    for name, limit in (("title", 300), ("category", 100), ("location", 300), ("unit", 64)):
        value = getattr(report, name)
        if not isinstance(value, str) or not value.strip():
            problems[name] = "required"
        elif len(value) > limit:
            problems[name] = f"at most {limit} characters"
    if report.source not in SOURCES:
        problems["source"] = f"must be one of {', '.join(SOURCES)}"
    if report.severity not in SEVERITIES:
        problems["severity"] = f"must be one of {', '.join(SEVERITIES)}"
    if report.inspection_round is not None and len(report.inspection_round) > 100:
        problems["inspection_round"] = "at most 100 characters"
    if problems:
        only_missing = all(m == "required" for m in problems.values())
        raise (MissingFields if only_missing else InvalidFields)(problems)


def _attachment_problems(uow: UnitOfWork, transition: Transition, payload: dict, finding: Finding) -> dict:
    problems = {}
    for spec in transition.fields:
        ids = payload.get(spec.name) if spec.type == "attachments" else None
        if not ids:
            continue
        found = set(uow.session.scalars(sa.select(Attachment.id).where(
            Attachment.id.in_(ids), Attachment.finding_id == finding.id)))
        missing = [i for i in ids if i not in found]
        if missing:
            problems[spec.name] = f"no attachment(s) {missing} on this finding"
    return problems


def state_clock(uow: UnitOfWork, workflow: Workflow, finding: Finding, state_name: str, now: datetime, *,
                deadline: datetime | None = None) -> dict:
    """The clock of a state about to be entered: its due and reminder times, closure, the sweep's next look.

    A finding's 整改期限 (`deadline`, else the one it holds) replaces the rule's due in the states it applies to."""
    state = workflow.states[state_name]
    values: dict = {"state_entered_at": now}
    if state.closed:  # on time = no deadline missed, the one in force while closing included
        values["closed_on_time"] = finding.overdue_count == 0 and (finding.due_at is None or now <= finding.due_at)
    # Counted on the calendar the due names, else the unit's default, else office; stored times never move after.
    calendar, on_due, on_remind = uow.calendars.for_state(workflow, state, finding.unit_id)
    values["due_at"] = due = on_due.add(now, state.due) if state.due else None
    deadline = deadline or finding.deadline_at
    if deadline is not None and due is not None and state_name in deadlines.states(workflow):
        values["due_at"] = due = deadline  # 整改期限 set at assignment replaces the rule's due time
    values["remind_at"] = remind = (on_remind.subtract(due, state.remind_before)
                                    if state.remind_before and due else None)
    values["due_calendar"] = calendar if due else None
    values["closed_at"] = now if state.closed or state.final else None
    values["sweep_at"] = remind or due  # when engine.timers.sweep acts next
    return values


def enter_state(uow: UnitOfWork, workflow: Workflow, finding: Finding, now: datetime) -> None:
    """Start the clock of the state a new or migrated finding is in (advance writes its own through Core)."""
    for key, value in state_clock(uow, workflow, finding, finding.state, now).items():
        setattr(finding, key, value)


def log_change(session: orm.Session, finding: Finding, event: str, from_state: str | None, to_state: str,
               actor: Actor, role: str, now: datetime, payload: dict, comment: str | None, *,
               changes: dict | None = None) -> dict:
    """Append the finding's next audit row; returns the new head of its chain (columns of the finding).

    `changes`: the columns about to be written (the finding still holds the old values); the row records the
    scored ones that change. None: the finding already holds its new values and the row records all of them."""
    seq = finding.audit_seq + 1
    head = audit.append(session, finding, seq=seq, prev_hash=finding.audit_head, event=event,
                        from_state=from_state, to_state=to_state, actor=actor.name, role=role, at=now,
                        payload=payload, comment=comment, effects=audit.effects(finding, changes))
    return {"audit_seq": seq, "audit_head": head}


def require_mapping(states_in_use: set[str], mapping: dict[str, str], target: Workflow) -> None:
    """Refuse a migration mapping that leaves a state in use unmapped or maps to a state the target lacks."""
    unmapped = sorted(states_in_use - set(mapping))
    unknown = sorted({new for new in mapping.values() if new not in target.states})
    if unmapped or unknown:
        parts = []
        if unmapped:
            parts.append(f"unmapped state(s) with open findings: {', '.join(unmapped)}")
        if unknown:
            parts.append(f"target state(s) not in {target.name}: {', '.join(unknown)}")
        raise InvalidInput("; ".join(parts))
