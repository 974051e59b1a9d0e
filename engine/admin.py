"""Administrative use cases: units, users and their tokens, workflow versions and migrations."""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, InvalidInput, NotFound, WorkflowRejected
from engine.models import Finding, Unit, User, WorkflowVersion
from engine.services import enter_state, log_change, require_mapping
from engine.unit_of_work import UnitOfWork
from workflows import yamlsrc
from workflows.lint import lint_text

TOKEN_PREFIX = "xc_"  # noqa: S105 - a marker that makes leaked tokens easy to spot, not a secret


def create_unit(uow: UnitOfWork, code: str, name: str, *, parent: str | None = None,
                name_en: str | None = None) -> Unit:
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
    unit = Unit(code=code.strip(), name=name.strip(), name_en=name_en, parent_id=parent_id)
    session.add(unit)
    session.flush()
    uow.after_commit(uow.store.directory.forget)  # the parent's users reach the new unit from then on
    return unit


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (no salt or slow KDF needed, unlike passwords).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(uow: UnitOfWork, name: str, roles: list[str], *, unit: str | None = None,
                display_name: str | None = None) -> tuple[User, str]:
    """Create a user and return it with its API token; only the token's hash is stored."""
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
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(name=name.strip(), display_name=display_name, roles=list(roles), unit_id=unit_id,
                token_hash=hash_token(token))
    session.add(user)
    session.flush()
    return user, token


def user_by_token(uow: UnitOfWork, token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    return uow.session.scalars(sa.select(User).where(User.token_hash == hash_token(token),
                                                      User.active.is_(True))).first()


def known_roles(uow: UnitOfWork) -> set[str]:
    roles: set[str] = set()
    for row in uow.session.scalars(sa.select(WorkflowVersion).where(WorkflowVersion.active.is_(True))):
        roles.update(uow.registry.get(uow.session, row.name, row.number).roles)
    return roles


@dataclass
class Loaded:
    name: str
    number: int
    created: bool


def load_workflows(uow: UnitOfWork, text: str, *, file: str = "<upload>", by: str) -> list[Loaded]:
    """Store each workflow of `text` whose definition changed as a new active version; refuse text with errors."""
    errors = [p for p in lint_text(text, file) if p.severity == "error"]
    if errors:
        raise WorkflowRejected(errors)
    session, results = uow.session, []
    tree = yamlsrc.parse(text)
    for name, subtree in tree["workflows"].items():
        digest = hashlib.sha256(json.dumps(subtree, sort_keys=True, ensure_ascii=True,
                                           default=str).encode("utf-8")).hexdigest()
        current = session.scalars(sa.select(WorkflowVersion).where(
            WorkflowVersion.name == name, WorkflowVersion.active.is_(True))).first()
        if current is not None and current.sha256 == digest:
            results.append(Loaded(name, current.number, False))
            continue
        number = (session.scalar(sa.select(sa.func.max(WorkflowVersion.number))
                                 .where(WorkflowVersion.name == name)) or 0) + 1
        if current is not None:
            current.active = False
        session.add(WorkflowVersion(name=name, number=number, yaml_text=text, sha256=digest, created_by=by,
                                    created_at=utcnow(), active=True))
        session.flush()
        results.append(Loaded(name, number, True))
    return results


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
        was_closed = uow.registry.get(session, name, from_version).states[from_state].closed
        finding.state, finding.workflow_version = mapping[from_state], to_version
        if not (was_closed and target.states[finding.state].closed):
            enter_state(uow, target, finding, now)  # a closed finding keeps when and how it was closed
        finding.version += 1
        finding.updated_at = now
        head = log_change(session, finding, "migrate", from_state, finding.state, actor, "admin", now,
                          {"from_version": from_version, "to_version": to_version,
                           "mapping": dict(sorted(mapping.items()))}, comment)
        finding.audit_seq, finding.audit_head = head["audit_seq"], head["audit_head"]
    return len(findings)


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
