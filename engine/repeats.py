"""Which earlier findings a new one repeats (same workflow, category and place within a window), and the links."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from engine.models import Finding, FindingLink
from engine.unit_of_work import UnitOfWork
from workflows.model import Workflow
from workflows.rules import DEFAULT_WINDOW


def building_of(location: str, separator: str) -> str:
    """The place a location lies in: the text before the first separator ('学生公寓9号楼 3层' -> '学生公寓9号楼')."""
    return location.split(separator, 1)[0].strip() or location



def same_place(location: str, same: str, separator: str) -> sa.ColumnElement[bool]:
    """SQL condition: a finding's location is the same place, exactly or within the same building."""
    if same != "building":
        return Finding.location == location
    building = building_of(location, separator)
    return sa.or_(Finding.location == building, Finding.location.startswith(building + separator, autoescape=True))



def link_earlier(uow: UnitOfWork, finding: Finding, now: datetime) -> list[Finding]:
    """Called by services.report_finding before the report's audit row: link earlier findings of the same
    category and place and set the repeat columns, so the row records them; returns the earlier findings."""
    workflow = _workflow(uow, finding)
    found, not_fixed = workflow.rules.get("repeat_found"), workflow.rules.get("not_fixed")
    if not found and not not_fixed:
        return []
    earlier = earlier_findings(uow, finding, found or {}, now)
    for e in earlier:
        uow.session.add(FindingLink(finding_id=finding.id, earlier_id=e.id, earlier_open=is_open(uow, e),
                                    created_at=now))
    if earlier:
        finding.repeat_of_id, finding.repeat_count = earlier[0].id, len(earlier)
    return earlier



def earlier_findings(uow: UnitOfWork, finding: Finding, rule: dict, now: datetime) -> list[Finding]:
    """Earlier findings of the same workflow and category at the same place within the window, newest first."""
    since = uow.calendar.subtract(now, rule.get("window", DEFAULT_WINDOW))
    query = sa.select(Finding).where(
        Finding.id < finding.id, Finding.workflow_name == finding.workflow_name,
        Finding.category == finding.category, Finding.created_at >= since, Finding.created_at <= now,
        same_place(finding.location, rule.get("same", "location"), rule.get("separator", " ")))
    if rule.get("exclude_states"):
        query = query.where(Finding.state.not_in(rule["exclude_states"]))
    return list(uow.session.scalars(query.order_by(Finding.created_at.desc(), Finding.id.desc())))



def is_open(uow: UnitOfWork, finding: Finding) -> bool:
    state = _workflow(uow, finding).states[finding.state]
    return not (state.closed or state.final)



def links(uow: UnitOfWork, finding_id: int) -> dict[str, list[int]]:
    """The recurrence links of a finding: the earlier findings it repeats, and the later ones repeating it."""
    session = uow.session
    earlier = session.scalars(sa.select(FindingLink.earlier_id).where(FindingLink.finding_id == finding_id)
                              .order_by(FindingLink.earlier_id.desc()))
    later = session.scalars(sa.select(FindingLink.finding_id).where(FindingLink.earlier_id == finding_id)
                            .order_by(FindingLink.finding_id))
    return {"repeats": list(earlier), "repeated_by": list(later)}


def _workflow(uow: UnitOfWork, finding: Finding) -> Workflow:
    return uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
