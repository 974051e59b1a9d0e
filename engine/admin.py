"""Administrative use cases: units, users and their tokens, workflow versions and migrations."""
from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
import yaml

from engine import audit
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, InvalidInput, InvalidToken, NotFound, WorkflowRejected
from engine.models import Finding, Unit, User, WorkflowVersion
from engine.services import enter_state, log_change, require_mapping, state_clock
from engine.unit_of_work import UnitOfWork
from engine.users import TOKEN_PREFIX, authenticate, hash_token, issue_token
from workflows import yamlsrc
from workflows.calendars import OFFICE
from workflows.lint import lint_text
from workflows.model import State, Workflow

__all__ = ["TOKEN_PREFIX", "hash_token"]  # kept importable from here for callers that predate engine.users


def create_unit(uow: UnitOfWork, code: str, name: str, *, parent: str | None = None,
                name_en: str | None = None, calendar: str | None = None, by: Actor | str = "system") -> Unit:
    session = uow.session
    if not code or not code.strip() or len(code) > 64:
        raise InvalidFields({"code": "required, at most 64 characters"})
    if not name or not name.strip():
        raise InvalidFields({"name": "required"})
    if session.scalar(sa.select(Unit.id).where(Unit.code == code)) is not None:
        raise InvalidFields({"code": f"unit {code!r} exists already"})
    parent_id = None
    if parent:
        parent_id = session.scalar(sa.select(Unit.id).where(Unit.code == parent))
        if parent_id is None:
            raise InvalidFields({"parent": f"no unit with code {parent!r}"})
    if calendar is not None:
        _check_calendar(uow, calendar)
    unit = Unit(code=code.strip(), name=name.strip(), name_en=name_en, parent_id=parent_id, calendar=calendar)
    session.add(unit)
    audit.record_row(session, "create", by, unit)
    uow.after_commit(uow.store.directory.forget)  # the parent's users reach the new unit from then on
    if calendar is not None:
        uow.unit_calendar_changed(unit.id, calendar)
    return unit


def set_unit_calendar(uow: UnitOfWork, code: str, calendar: str, *, by: Actor | str = "system") -> Unit:
    """Count the due times of the unit's findings on `calendar` where a state names none, from the next state
    entered on; due times already set stay as they were counted."""
    unit = unit_by_code(uow, code)
    _check_calendar(uow, calendar)
    unit.calendar = calendar
    audit.record_row(uow.session, "set_calendar", by, unit)
    uow.unit_calendar_changed(unit.id, calendar)
    return unit


def known_calendars(uow: UnitOfWork) -> set[str]:
    """Office and the calendars the active workflow versions' files name."""
    names = {OFFICE}
    for row in uow.session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.active.is_(True))):
        names.update(uow.registry.get(uow.session, row.name, row.number).calendars)
    return names


def _check_calendar(uow: UnitOfWork, calendar: str) -> None:
    known = known_calendars(uow)
    if calendar not in known:
        raise InvalidFields({"calendar": f"unknown calendar {calendar!r}; known: "
                                         f"{', '.join(sorted(known))}"})


def create_user(uow: UnitOfWork, name: str, roles: list[str], *, unit: str | None = None,
                display_name: str | None = None, by: Actor | str = "system") -> tuple[User, str]:
    """Create a user and return it with its API token; only the token's hash is stored.

    A role whose scope is its unit (a service centre) needs `unit`: without one it could see nothing."""
    session = uow.session
    if not name or not name.strip() or len(name) > 100:
        raise InvalidFields({"name": "required, at most 100 characters"})
    if not roles:
        raise InvalidFields({"role": "at least one role"})
    known = known_roles(uow)
    unknown = [r for r in roles if r not in known]
    if unknown:
        raise InvalidFields({"role": f"unknown role(s) {unknown}; the workflows define {sorted(known)}"})
    if session.scalar(sa.select(User.id).where(User.name == name)) is not None:
        raise InvalidFields({"name": f"user {name!r} exists already"})
    unit_id = None
    if unit:
        unit_id = session.scalar(sa.select(Unit.id).where(Unit.code == unit))
        if unit_id is None:
            raise InvalidFields({"unit": f"no unit with code {unit!r}"})
    else:
        scoped = sorted(set(roles) & unit_scoped_roles(uow))
        if scoped:
            raise InvalidFields({"unit": f"role {scoped[0]!r} sees only its unit's findings: give the unit"})
    user = User(name=name.strip(), display_name=display_name, roles=list(roles), unit_id=unit_id)
    token = issue_token(user)
    session.add(user)
    audit.record_row(session, "create", by, user)
    return user, token


def user_by_token(uow: UnitOfWork, token: str) -> User | None:
    """The user a token names while it may act (see engine.users.authenticate for why one may not)."""
    try:
        return authenticate(uow, token)
    except InvalidToken:
        return None


def known_roles(uow: UnitOfWork) -> set[str]:
    roles: set[str] = set()
    for row in uow.session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.active.is_(True))):
        roles.update(uow.registry.get(uow.session, row.name, row.number).roles)
    return roles


def unit_scoped_roles(uow: UnitOfWork) -> set[str]:
    """Roles that some active workflow scopes to the user's unit."""
    roles: set[str] = set()
    for row in uow.session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.active.is_(True))):
        workflow = uow.registry.get(uow.session, row.name, row.number)
        roles.update(name for name, role in workflow.roles.items() if role.scope == "unit")
    return roles


@dataclass
class Loaded:
    name: str
    number: int
    created: bool
    # With keep_active: the active version differs from the text and was kept; how (a unified diff)
    kept: tuple[str, ...] = ()


def load_workflows(uow: UnitOfWork, text: str, *, file: str = "<upload>", by: str,
                   keep_active: bool = False) -> list[Loaded]:
    """Store each workflow of `text` whose definition changed as a new active version; refuse text with errors.

    `keep_active` (what `xuncha init` uses): a workflow that already has an active version is never replaced,
    as that version may be an administrator's (`POST /workflows`); its differences from the text are returned
    instead, so the caller can say what differs and how to load the file on purpose."""
    errors = [p for p in lint_text(text, file) if p.severity == "error"]
    if errors:
        raise WorkflowRejected(errors)
    session, results = uow.session, []
    tree = yamlsrc.parse(text)
    for name, subtree in tree["workflows"].items():
        # A workflow's due times are counted on the file's calendars, so they are part of its definition; a file
        # without calendars keeps the digests it always had.
        defined = [subtree, tree["calendars"]] if tree.get("calendars") else subtree
        digest = hashlib.sha256(json.dumps(defined, sort_keys=True, ensure_ascii=True,
                                           default=str).encode("utf-8")).hexdigest()
        current = session.scalars(sa.select(WorkflowVersion).where(
            WorkflowVersion.name == name, WorkflowVersion.active.is_(True))).first()
        if current is not None and current.sha256 == digest:
            results.append(Loaded(name, current.number, False))
            continue
        if current is not None and keep_active:
            results.append(Loaded(name, current.number, False, _differences(current, subtree, file)))
            continue
        number = (session.scalar(sa.select(sa.func.max(WorkflowVersion.number))
                                 .where(WorkflowVersion.name == name)) or 0) + 1
        if current is not None:
            current.active = False
            audit.record_row(session, "deactivate", by, current)
        version = WorkflowVersion(name=name, number=number, yaml_text=text, sha256=digest, created_by=by,
                                  created_at=utcnow(), active=True)
        session.add(version)
        audit.record_row(session, "load", by, version, extra={"file": file})
        results.append(Loaded(name, number, True))
    return results


def _differences(current: WorkflowVersion, subtree, file: str, limit: int = 40) -> tuple[str, ...]:
    def dump(tree) -> list[str]:
        plain = json.loads(json.dumps(tree, default=str))
        return yaml.safe_dump(plain, allow_unicode=True, sort_keys=False, width=1000).splitlines()

    stored = yamlsrc.parse(current.yaml_text)["workflows"][current.name]
    lines = list(difflib.unified_diff(dump(stored), dump(subtree), f"{current.name} v{current.number} (active)",
                                      file, lineterm="", n=1))
    return tuple(lines[:limit] + ([f"... {len(lines) - limit} more line(s)"] if len(lines) > limit else []))


def migrate_findings(uow: UnitOfWork, name: str, to_version: int, mapping: dict[str, str], actor: Actor,
                     *, comment: str | None = None) -> int:
    """Move every not-final finding of `name` on another version to `to_version`, state by explicit mapping."""
    session, now = uow.session, utcnow()
    target = uow.registry.get(session, name, to_version)
    query = sa.select(Finding).where(Finding.workflow_name == name, Finding.workflow_version != to_version)
    if uow.dialect == "postgresql":
        query = query.with_for_update()
    findings = [f for f in session.scalars(query.order_by(Finding.id))
                if not uow.registry.get(session, name, f.workflow_version).states[f.state].final]
    if not findings:
        return 0
    require_mapping({f.state for f in findings}, mapping, target)
    for finding in findings:
        from_state, from_version = finding.state, finding.workflow_version
        source = uow.registry.get(session, name, from_version).states[from_state]
        finding.state, finding.workflow_version = mapping[from_state], to_version
        _keep_clock(uow, target, finding, source, now)
        finding.version += 1
        finding.updated_at = now
        head = log_change(session, finding, "migrate", from_state, finding.state, actor, "admin", now,
                          {"from_version": from_version, "to_version": to_version,
                           "mapping": dict(sorted(mapping.items()))}, comment)
        finding.audit_seq, finding.audit_head = head["audit_seq"], head["audit_head"]
    audit.record_change(session, "workflows", "migrate", actor,
                        {"workflow": name, "to_version": to_version, "mapping": dict(sorted(mapping.items())),
                         "findings": [f.id for f in findings]}, at=now)
    return len(findings)


def _keep_clock(uow: UnitOfWork, target: Workflow, finding: Finding, source: State, now) -> None:
    """A migration is no new start: a finding keeps its deadline, its overdue counters and how it closed.

    A closed finding mapped to a closed state keeps when and how it was closed. An open finding mapped to a
    state with the same due rule keeps its due, reminder and sweep times; where the rule differs, the new due
    counts from when the finding entered its state (state_entered_at), not from the migration. Only a finding
    the mapping closes starts that state's clock now."""
    state = target.states[finding.state]
    if source.closed and state.closed:
        return
    if state.closed or state.final:
        enter_state(uow, target, finding, now)
        return
    if (state.due, state.remind_before) == (source.due, source.remind_before):
        return
    entered = finding.state_entered_at
    for key, value in state_clock(uow, target, finding, finding.state, entered).items():
        setattr(finding, key, value)


def migration_counts(uow: UnitOfWork, name: str, to_version: int) -> dict[tuple[int, str], int]:
    """Open (not final) findings of `name` a migration to `to_version` would move, per (version, state)."""
    session = uow.session
    uow.registry.get(session, name, to_version)
    query = (sa.select(Finding.workflow_version, Finding.state, sa.func.count())
             .where(Finding.workflow_name == name, Finding.workflow_version != to_version)
             .group_by(Finding.workflow_version, Finding.state))
    return {(version, state): n for version, state, n in session.execute(query)
            if not uow.registry.get(session, name, version).states[state].final}


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InvalidInput(f"mapping {pair!r} is not OLD=NEW")
        mapping[old.strip()] = new.strip()
    return mapping


def unit_by_code(uow: UnitOfWork, code: str) -> Unit:
    unit = uow.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("unit", code)
    return unit
