"""The compiled form of a workflow definition: plain frozen objects shared by every request."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from workflows.durations import Duration

FIELD_TYPES = ("text", "choice", "number", "date", "attachments")
COUNTERS = ("failed_verifications", "reopenings")


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def as_dict(self) -> dict:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Role:
    name: str
    label: Label
    # "all": every finding; "unit": findings of the user's unit or units below it; "own": those it reported
    scope: str = "all"
    line: int | None = None


@dataclass(frozen=True)
class State:
    name: str
    label: Label
    final: bool = False
    closed: bool = False
    due: Duration | None = None
    on_overdue: str | None = None
    remind_before: Duration | None = None
    line: int | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = True
    label: Label | None = None
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    label: Label
    fields: tuple[Field, ...] = ()
    guard: Any = None  # workflows.guards.Guard
    reason: Label | None = None
    increment: tuple[str, ...] = ()
    line: int | None = None
    index: int = 0  # position in the YAML list; among equal (event, source) pairs the first passing wins

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


@dataclass
class Workflow:
    name: str
    label: Label
    initial: str
    roles: dict[str, Role]
    states: dict[str, State]
    transitions: list[Transition]
    reporters: tuple[str, ...] = ()  # roles that may report a new finding
    rules: dict = field(default_factory=dict)  # recurrence and scorecard settings, read by the engine
    line: int | None = None
    machine: Any = None  # transitions.Machine, built once per loaded version
    # The named calendars of the file it was loaded from (workflows.calendars.CalendarSpec by name); due times
    # may name one, and a unit's default calendar is looked up here.
    calendars: dict = field(default_factory=dict)

    def outgoing(self, state: str, event: str | None = None) -> list[Transition]:
        return [t for t in self.transitions
                if state in t.sources and (event is None or t.event == event)]

    def events_from(self, state: str) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.outgoing(state):
            seen.setdefault(t.event, None)
        return list(seen)


@dataclass
class Definition:
    """Everything one YAML file defines, plus its text and digest."""

    workflows: dict[str, Workflow]
    text: str
    file: str = "<string>"
    calendars: dict = field(default_factory=dict)  # workflows.calendars.CalendarSpec by name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()
