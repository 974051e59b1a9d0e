"""Recurrence classes from the workflow's `rules:`: 屡查屡犯 (found again), 屡改屡犯 (fixed then broken), 查而不改."""
from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime

import sqlalchemy as sa

from engine import services
from engine.actors import SYSTEM
from engine.errors import DomainError
from engine.models import Finding, FindingLink
from engine.unit_of_work import UnitOfWork
from workflows.model import Transition, Workflow
from workflows.rules import DEFAULT_WINDOW

log = logging.getLogger(__name__)
# Set while a rule's own event runs, so an event a rule fires never sets off the rules again.
_firing: ContextVar[bool] = ContextVar("xuncha_rule_firing", default=False)


def building_of(location: str, separator: str) -> str:
    """The place a location lies in: the text before the first separator ('学生公寓9号楼 3层' -> '学生公寓9号楼')."""
    return location.split(separator, 1)[0].strip() or location


def same_place(location: str, same: str, separator: str) -> sa.ColumnElement[bool]:
    """SQL condition: a finding's location is the same place, exactly or within the same building (the text rule,
    for findings without a registered place: `floor` and `area` compare as `building`, `place` as `location`)."""
    if same not in ("building", "floor", "area"):
        return Finding.location == location
    building = building_of(location, separator)
    return sa.or_(Finding.location == building, Finding.location.startswith(building + separator, autoescape=True))


def _same_place(uow: UnitOfWork, finding: Finding, rule: dict) -> sa.ColumnElement[bool]:
    """By the place tree when both findings have a place, by the location text otherwise."""
    text = same_place(finding.location, rule.get("same", "location"), rule.get("separator", " "))
    if finding.place_id is None:
        return text
    from engine.places.matching import same_place_in_tree

    return sa.or_(same_place_in_tree(uow, finding.place_id, rule.get("same", "location")),
                  sa.and_(Finding.place_id.is_(None), text))


def on_report(uow: UnitOfWork, finding: Finding, now: datetime) -> None:
    """Called by services.report_finding: link earlier findings of the same category and place, fire the rules."""
    workflow = _workflow(uow, finding)
    found, not_fixed = workflow.rules.get("repeat_found"), workflow.rules.get("not_fixed")
    if not found and not not_fixed:
        return
    earlier = earlier_findings(uow, finding, found or {}, now)
    if not earlier:
        return
    open_ids = {e.id for e in earlier if is_open(uow, e)}
    for e in earlier:
        uow.session.add(FindingLink(finding_id=finding.id, earlier_id=e.id, earlier_open=e.id in open_ids,
                                    created_at=now))
    finding.repeat_of_id, finding.repeat_count = earlier[0].id, len(earlier)
    if found and found["event"] and finding.repeat_count >= found["threshold"]:
        fire(uow, finding, found["event"], "repeat_found", now)
    if not_fixed and not_fixed["event"] and not_fixed["reported_again_while_open"]:
        for e in earlier:
            if e.id in open_ids:
                fire(uow, e, not_fixed["event"], "not_fixed", now)


def on_advance(uow: UnitOfWork, finding: Finding, transition: Transition, now: datetime) -> None:
    """Called by services.advance: a verify-fail or reopen may bring a finding to the 屡改屡犯 threshold."""
    if _firing.get() or not transition.increment:
        return
    rule = _workflow(uow, finding).rules.get("repeat_failed")
    if rule and finding.failed_verifications + finding.reopenings >= rule["threshold"]:
        fire(uow, finding, rule["event"], "repeat_failed", now)


def earlier_findings(uow: UnitOfWork, finding: Finding, rule: dict, now: datetime) -> list[Finding]:
    """Earlier findings of the same workflow and category at the same place within the window, newest first."""
    since = uow.calendar.subtract(now, rule.get("window", DEFAULT_WINDOW))
    query = sa.select(Finding).where(
        Finding.id < finding.id, Finding.workflow_name == finding.workflow_name,
        Finding.category == finding.category, Finding.created_at >= since, Finding.created_at <= now,
        _same_place(uow, finding, rule))
    if rule.get("exclude_states"):
        query = query.where(Finding.state.not_in(rule["exclude_states"]))
    return list(uow.session.scalars(query.order_by(Finding.created_at.desc(), Finding.id.desc())))


def is_open(uow: UnitOfWork, finding: Finding) -> bool:
    state = _workflow(uow, finding).states[finding.state]
    return not (state.closed or state.final)


def fire(uow: UnitOfWork, finding: Finding, event: str, rule: str, now: datetime) -> bool:
    """Fire a rule's event through `advance` as the system, audited with the rule's name; False if not possible.

    A refusal (a guard, a state the event does not leave) must not undo the report or transition that set the
    rule off, so it is logged and skipped; advance raises before it changes anything."""
    if event not in _workflow(uow, finding).events_from(finding.state):
        return False
    token = _firing.set(True)
    try:
        services.advance(uow, finding.id, event, SYSTEM, {"rule": rule}, now=now)
    except DomainError as exc:
        log.warning("rule %s could not fire %s on finding %s: %s", rule, event, finding.id, exc)
        return False
    finally:
        _firing.reset(token)
    return True


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
