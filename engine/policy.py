"""Who may see and act on a finding: one rule, as a Python predicate and as the same condition in SQL.

A finding is judged by the role scopes of the workflow version it is on (its own, not the active one), so a
list and a detail page always agree, also after an administrator changed a role's scope in a new version.
A role's `scope` is `all` (every finding), `unit` (findings of the actor's unit and the units below it) or
`own` (findings the actor reported). Every read and write path asks here; nothing else decides visibility."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from engine.actors import Actor
from engine.errors import NotAllowed
from engine.models import Finding, WorkflowVersion
from engine.unit_of_work import UnitOfWork
from workflows.model import Transition, Workflow

ALL, UNIT, OWN = "all", "unit", "own"


def role_reaches(workflow: Workflow, role: str, actor: Actor, finding: Finding) -> bool:
    """Whether `role` (one the actor holds) reaches this finding under its workflow version's scopes."""
    spec = workflow.roles.get(role)
    if spec is None or role not in actor.roles:
        return False
    if spec.scope == UNIT:
        return actor.can_reach(finding.unit_id)
    if spec.scope == OWN:
        return actor.user_id is not None and finding.reporter_id == actor.user_id
    return True


def may_see(workflow: Workflow, actor: Actor, finding: Finding) -> bool:
    """The predicate twin of `visible`: `workflow` is the finding's own version."""
    return any(role_reaches(workflow, role, actor, finding) for role in actor.roles)


def acting_role(workflow: Workflow, transition: Transition, actor: Actor, finding: Finding) -> str | None:
    """The first of the actor's roles that may fire `transition` on this finding, or None."""
    for role in actor.roles:
        if role in transition.roles and role_reaches(workflow, role, actor, finding):
            return role
    return None


def reporting_role(workflow: Workflow, actor: Actor, unit_id: int) -> str:
    """The role the actor reports a finding for `unit_id` in; refused when it has none."""
    for role in actor.roles:
        spec = workflow.roles.get(role)
        if role in workflow.reporters and spec and (spec.scope != UNIT or actor.can_reach(unit_id)):
            return role
    raise NotAllowed(f"{actor.name} may not report findings for this unit; reporters are: "
                     f"{', '.join(workflow.reporters)}", workflow.reporters)


def _scopes(workflow: Workflow, actor: Actor) -> frozenset[str]:
    scopes = {workflow.roles[r].scope or ALL for r in actor.roles if r in workflow.roles}
    return frozenset({ALL}) if ALL in scopes else frozenset(scopes)


def visible(uow: UnitOfWork, actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition for the findings the actor may see: `may_see` for every stored workflow version at once.

    Versions in which the actor's roles have the same scopes share one condition, so the statement stays
    small however many versions were loaded."""
    session, groups = uow.session, defaultdict(list)
    for name, number in session.execute(sa.select(WorkflowVersion.name, WorkflowVersion.number)):
        scopes = _scopes(uow.registry.get(session, name, number), actor)
        if scopes:
            groups[(name, scopes)].append(number)
    conditions = []
    for (name, scopes), numbers in sorted(groups.items(), key=lambda g: (g[0][0], sorted(g[0][1]))):
        reach = _reach_condition(scopes, actor)
        if reach is not None:
            conditions.append(sa.and_(Finding.workflow_name == name, Finding.workflow_version.in_(sorted(numbers)),
                                      reach))
    return sa.or_(*conditions) if conditions else sa.false()


def _reach_condition(scopes: frozenset[str], actor: Actor) -> sa.ColumnElement[bool] | None:
    if ALL in scopes:
        return sa.true()
    parts = []
    if UNIT in scopes and actor.reach:
        parts.append(Finding.unit_id.in_(sorted(actor.reach)))
    if OWN in scopes and actor.user_id is not None:
        parts.append(Finding.reporter_id == actor.user_id)
    return sa.or_(*parts) if parts else None


def visible_ids(uow: UnitOfWork, actor: Actor, ids: Iterable[int]) -> set[int]:
    """Those of `ids` naming findings the actor may see (for links and references shown beside a finding)."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    return set(uow.session.scalars(sa.select(Finding.id).where(Finding.id.in_(ids), visible(uow, actor))))


def visible_units(uow: UnitOfWork, actor: Actor) -> frozenset[int] | None:
    """Units whose records (sanctions, commendations, notices, scorecards) the actor may see: None means all.

    Records belong to a unit, not to a workflow version, so the active versions' scopes decide."""
    session, reach = uow.session, set()
    for name, number in session.execute(sa.select(WorkflowVersion.name, WorkflowVersion.number)
                                        .where(WorkflowVersion.active.is_(True))):
        scopes = _scopes(uow.registry.get(session, name, number), actor)
        if ALL in scopes:
            return None
        if UNIT in scopes:
            reach |= actor.reach
    return frozenset(reach)  # a public ("own") user sees no unit's records
