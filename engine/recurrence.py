"""Recurrence rules from the workflow's `rules:`: 屡查屡犯 (found again), 屡改屡犯 (fixed then broken), 查而不改."""
from __future__ import annotations

import logging
from datetime import datetime

from engine import services
from engine.actors import SYSTEM
from engine.errors import DomainError
from engine.events import FindingAdvanced, FindingReported
from engine.models import Finding
from engine.repeats import is_open
from engine.unit_of_work import UnitOfWork
from workflows.model import Workflow

log = logging.getLogger(__name__)


def on_report(uow: UnitOfWork, event: FindingReported) -> None:
    """Handler: fire the rules that the earlier findings a report repeats set off."""
    finding, earlier, now = event.finding, event.repeats, event.now
    if not earlier:
        return
    workflow = _workflow(uow, finding)
    found, not_fixed = workflow.rules.get("repeat_found"), workflow.rules.get("not_fixed")
    open_ids = {e.id for e in earlier if is_open(uow, e)}
    if found and found["event"] and finding.repeat_count >= found["threshold"]:
        fire(uow, finding, found["event"], "repeat_found", now)
    if not_fixed and not_fixed["event"] and not_fixed["reported_again_while_open"]:
        for e in earlier:
            if e.id in open_ids:
                fire(uow, e, not_fixed["event"], "not_fixed", now)


def on_advance(uow: UnitOfWork, event: FindingAdvanced) -> None:
    """Handler: a verify-fail or reopen may bring a finding to the 屡改屡犯 threshold."""
    # An event a rule fired (`rule` set) never sets off the rules again.
    finding, now = event.finding, event.now
    if event.rule is not None or not event.transition.increment:
        return
    rule = _workflow(uow, finding).rules.get("repeat_failed")
    if rule and finding.failed_verifications + finding.reopenings >= rule["threshold"]:
        fire(uow, finding, rule["event"], "repeat_failed", now)


def fire(uow: UnitOfWork, finding: Finding, event: str, rule: str, now: datetime) -> bool:
    """Fire a rule's event through `advance` as the system, audited with the rule's name; False if not possible.

    A refusal (a guard, a state the event does not leave) must not undo the report or transition that set the
    rule off, so it is logged and skipped; advance raises before it changes anything."""
    if event not in _workflow(uow, finding).events_from(finding.state):
        return False
    try:
        services.advance(uow, finding.id, event, SYSTEM, rule=rule, now=now)
    except DomainError as exc:
        log.warning("rule %s could not fire %s on finding %s: %s", rule, event, finding.id, exc)
        return False
    return True


def _workflow(uow: UnitOfWork, finding: Finding) -> Workflow:
    return uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
