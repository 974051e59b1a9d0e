"""Domain events: what a use case did to a finding, handed to their handlers inside the same unit of work."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from engine.actors import Actor
from workflows.model import Transition

if TYPE_CHECKING:
    from engine.models import Commendation, Finding, Sanction
    from workflows.model import Label, State


@dataclass(frozen=True)
class FindingReported:
    """A finding entered its workflow's initial state."""

    finding: Finding
    actor: Actor
    now: datetime


@dataclass(frozen=True)
class FindingAdvanced:
    """A transition fired. `rule` names the rule that fired it (the sweep's `overdue`, a recurrence rule),
    so handlers can tell a person's decision from the system's reaction to one."""

    finding: Finding
    transition: Transition
    from_state: str
    actor: Actor
    role: str
    payload: dict = field(default_factory=dict)
    now: datetime | None = None
    rule: str | None = None


@dataclass(frozen=True)
class ReminderDue:
    """The sweep found a finding's reminder time reached: its deadline in `state` is near."""

    finding: Finding
    state: State
    now: datetime


@dataclass(frozen=True)
class DeadlineMissed:
    """The sweep found a finding past its due time; `action` labels the on_overdue event it fires (or None)."""

    finding: Finding
    state: State
    now: datetime
    action: Label | None = None


@dataclass(frozen=True)
class SanctionRecorded:
    """A sanction decided on several findings at once (records.record_sanction)."""

    sanction: Sanction
    actor: Actor
    now: datetime


@dataclass(frozen=True)
class CommendationRecorded:
    """Good practice recorded for a unit."""

    commendation: Commendation
    actor: Actor
    now: datetime


@dataclass(frozen=True)
class BriefingPublished:
    """A numbered briefing (巡查简报) was published for these units; for the briefings module to publish."""

    number: str  # 2026年第12期
    title: str
    unit_ids: tuple[int, ...]
    actor: Actor
    now: datetime
    url: str | None = None


Event = (FindingReported | FindingAdvanced | ReminderDue | DeadlineMissed | SanctionRecorded
         | CommendationRecorded | BriefingPublished)
