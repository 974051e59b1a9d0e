"""Hands each domain event to its handlers, in order, inside the unit of work of the use case that raised it.

Handlers run in the same transaction: a handler that raises rolls the whole use case back, and one that fires
an event of its own (a rule escalating a finding) goes through `services.advance` like everything else. Which
handlers an event reaches is written in one place, `engine.handlers`, which the engine package imports."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.events import Event
    from engine.unit_of_work import UnitOfWork

Handler = Callable[["UnitOfWork", "Event"], None]
_handlers: dict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type, handler: Handler) -> None:
    """Have `handler` receive every event of `event_type`, after the handlers subscribed before it."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def handlers_for(event_type: type) -> list[Handler]:
    return list(_handlers.get(event_type, ()))


def publish(uow: UnitOfWork, event: Event) -> None:
    """Run every handler of the event now, in the caller's transaction."""
    for handler in handlers_for(type(event)):
        handler(uow, event)
