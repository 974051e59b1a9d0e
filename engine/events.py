"""Domain events: what a use case did to a finding, handed to their handlers inside the same unit of work."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from engine.actors import Actor
from workflows.model import Transition

if TYPE_CHECKING:
    from engine.models import Finding


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


Event = FindingReported | FindingAdvanced
