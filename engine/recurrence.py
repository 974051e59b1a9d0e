"""Recurrence classes from the workflow's `rules:`: 屡查屡犯 (found again), 屡改屡犯 (fixed then broken), 查而不改."""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from engine import policy, services
from engine.actors import SYSTEM, Actor
from engine.errors import DomainError
from engine.events import FindingAdvanced
from engine.models import Finding, FindingLink
from engine.place_text import same_place_text
from engine.places.matching import same_place_in_tree
from engine.unit_of_work import UnitOfWork
from workflows.model import Workflow
from workflows.rules import DEFAULT_WINDOW, accepting_events

log = logging.getLogger(__name__)
LINKED_EVENT = "repeat_linked"  # the audit event recording the earlier findings an accepted one repeats


def same_place(location: str, other: str, rule: dict) -> bool:
    """Whether two findings' locations are the same place for a rule: the text fallback (engine.place_text) for
    findings without a registered place, where `floor` and `area` compare as `building`, `place` as `location`."""
    same = rule.get("same", "location")
    text_rule = {**rule, "same": "building" if same in ("floor", "building", "area") else "location"}
    return same_place_text(location, other, text_rule)


def on_accept(uow: UnitOfWork, event: FindingAdvanced) -> None:
    """Handler: a finding accepted into the loop is linked to earlier ones of the same category and place, and
    the 屡查屡犯 / 查而不改 rules act.

    Accepted means a person (not a rule, not the sweep) fired one of the rule's `when` events out of the initial
    state: by default any event that does not dismiss it (`assign`, or escalating it by hand, as shipped). An
    unvetted report (a student's, a centre's own) sets nothing off and links to nothing until it is accepted."""
    finding, now = event.finding, event.now
    workflow = _workflow(uow, finding)
    if event.rule is not None or event.from_state != workflow.initial:
        return
    found, not_fixed = workflow.rules.get("repeat_found"), workflow.rules.get("not_fixed")
    found_acts = bool(found) and event.transition.event in _on(workflow, found)
    not_fixed_acts = bool(not_fixed) and event.transition.event in _on(workflow, not_fixed)
    if not (found_acts or not_fixed_acts):
        return
    place = found or {}  # the place and window settings live in repeat_found; not_fixed shares them
    earlier = earlier_findings(uow, finding, place, now)
    counted: list[Finding] = []  # 查而不改: open findings of the units its rule holds to account
    if not_fixed_acts:
        among = earlier if not_fixed.get("same_unit", True) == place.get("same_unit", True) else \
            earlier_findings(uow, finding, {**place, "same_unit": not_fixed.get("same_unit", True)}, now)
        counted = [e for e in among if is_open(uow, e)]
    counted_ids = {e.id for e in counted}
    for e in earlier:
        uow.session.add(FindingLink(finding_id=finding.id, earlier_id=e.id, earlier_open=e.id in counted_ids,
                                    created_at=now))
    if earlier:  # logged with the columns it sets, so the audit log replays what scorecards read
        services.record_event(uow, finding, LINKED_EVENT, SYSTEM, "system", {"repeats": [e.id for e in earlier]},
                              changes={"repeat_of_id": earlier[0].id, "repeat_count": len(earlier)}, now=now)
    if found_acts and found["event"] and finding.repeat_count >= found["threshold"]:
        fire(uow, finding, found["event"], "repeat_found", now, triggered_by=finding.id)
    if not_fixed_acts and not_fixed["event"] and not_fixed["reported_again_while_open"]:
        for e in counted:
            fire(uow, e, not_fixed["event"], "not_fixed", now, triggered_by=finding.id)


def on_advance(uow: UnitOfWork, event: FindingAdvanced) -> None:
    """Handler: a verify-fail or reopen may bring a finding to the 屡改屡犯 threshold."""
    # An event a rule fired (`rule` set) never sets off the rules again.
    finding, now = event.finding, event.now
    if event.rule is not None or not event.transition.increment:
        return
    rule = _workflow(uow, finding).rules.get("repeat_failed")
    if rule and finding.failed_verifications + finding.reopenings >= rule["threshold"]:
        fire(uow, finding, rule["event"], "repeat_failed", now, triggered_by=finding.id)


def earlier_findings(uow: UnitOfWork, finding: Finding, rule: dict, now: datetime) -> list[Finding]:
    """Findings accepted before this one, of the same workflow and category at the same place, reported within
    the rule's window (and, unless `same_unit: false`, of the same unit), newest first.

    Findings still in the initial state were never accepted, so they are no precedent; nor are those in the
    rule's `exclude_states`. The database narrows by category, unit and time; the place is compared here."""
    since = uow.calendar.subtract(now, rule.get("window", DEFAULT_WINDOW))
    initial = _workflow(uow, finding).initial
    query = sa.select(Finding).where(
        Finding.id != finding.id, Finding.workflow_name == finding.workflow_name, Finding.state != initial,
        Finding.category == finding.category, Finding.created_at >= since, Finding.created_at <= now)
    if rule.get("same_unit", True):
        query = query.where(Finding.unit_id == finding.unit_id)
    if rule.get("exclude_states"):
        query = query.where(Finding.state.not_in(rule["exclude_states"]))
    if finding.place_id is not None:  # registered places compare by the tree; findings without one by the text
        query = query.where(sa.or_(same_place_in_tree(uow, finding.place_id, rule.get("same", "location")),
                                   Finding.place_id.is_(None)))
    candidates = uow.session.scalars(query.order_by(Finding.created_at.desc(), Finding.id.desc()))
    return [e for e in candidates
            if (finding.place_id is not None and e.place_id is not None)
            or same_place(finding.location, e.location, rule)]


def is_open(uow: UnitOfWork, finding: Finding) -> bool:
    state = _workflow(uow, finding).states[finding.state]
    return not (state.closed or state.final)


def fire(uow: UnitOfWork, finding: Finding, event: str, rule: str, now: datetime, *,
         triggered_by: int | None = None) -> bool:
    """Fire a rule's event through `advance` as the system, audited with the rule's name and the finding that
    set it off (`triggered_by`, where the event declares that field); False if not possible.

    A refusal (a guard, a state the event does not leave) must not undo the report or transition that set the
    rule off, so it is logged and skipped; advance raises before it changes anything."""
    workflow = _workflow(uow, finding)
    if event not in workflow.events_from(finding.state):
        return False
    declared = {f.name for t in workflow.outgoing(finding.state, event) for f in t.fields}
    payload = {"triggered_by": triggered_by} if triggered_by is not None and "triggered_by" in declared else {}
    try:
        services.advance(uow, finding.id, event, SYSTEM, payload, rule=rule, now=now)
    except DomainError as exc:
        log.warning("rule %s could not fire %s on finding %s: %s", rule, event, finding.id, exc)
        return False
    return True


def links(uow: UnitOfWork, finding_id: int, actor: Actor) -> dict[str, list[int]]:
    """The recurrence links of a finding: the earlier findings it repeats, and the later ones repeating it;
    only those the actor may see (an id that answers 404 to the caller is not shown to it here either)."""
    session = uow.session
    earlier = list(session.scalars(sa.select(FindingLink.earlier_id).where(FindingLink.finding_id == finding_id)
                                   .order_by(FindingLink.earlier_id.desc())))
    later = list(session.scalars(sa.select(FindingLink.finding_id).where(FindingLink.earlier_id == finding_id)
                                 .order_by(FindingLink.finding_id)))
    seen = policy.visible_ids(uow, actor, earlier + later)
    return {"repeats": [i for i in earlier if i in seen], "repeated_by": [i for i in later if i in seen]}


def _on(workflow: Workflow, rule: dict) -> tuple[str, ...]:
    return accepting_events(rule, workflow.initial, workflow.states, workflow.transitions)


def _workflow(uow: UnitOfWork, finding: Finding) -> Workflow:
    return uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
