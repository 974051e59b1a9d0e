"""整改期限: a rectification deadline the assigning person sets, replacing the rule's due time for one finding."""
from __future__ import annotations

from datetime import date, datetime

from engine.actors import Actor
from engine.errors import InvalidFields
from engine.worktime import WorkCalendar
from workflows.model import Workflow


def states(workflow: Workflow) -> tuple[str, ...]:
    """The states whose due time a finding's deadline replaces (rules.deadline.states)."""
    return tuple((workflow.rules.get("deadline") or {}).get("states") or ())


def requested(calendar: WorkCalendar, workflow: Workflow, actor: Actor, payload: dict,
              now: datetime) -> datetime | None:
    """The deadline a transition's payload sets, as the end of that working day on campus; None when it sets none.

    Refused, naming the field: a day that is no working day, a day already over, and, unless the actor holds one
    of `later_by` (a leader, an administrator), a day later than the rule allows: the longest due time of the
    deadline's states counted from now."""
    rule = workflow.rules.get("deadline")
    if not rule or not payload.get(rule["field"]):
        return None
    name, day = rule["field"], date.fromisoformat(payload[rule["field"]])
    if not calendar.is_working_day(day):
        raise InvalidFields({name: f"{day} is not a working day on campus"})
    at = datetime.combine(day, calendar.periods[-1][1], calendar.zone)
    if at <= now:
        raise InvalidFields({name: f"{day} is over already"})
    dues = [workflow.states[s].due for s in rule["states"] if workflow.states[s].due]
    allowed = max(calendar.add(now, due) for due in dues)
    if at > allowed and not set(rule["later_by"]) & set(actor.roles):
        longest = max(dues, key=lambda due: calendar.add(now, due))
        until = allowed.astimezone(calendar.zone).strftime("%Y-%m-%d %H:%M")
        raise InvalidFields({name: f"{day} is later than the rule allows ({longest}, until {until}); a later "
                                   f"deadline needs one of: {', '.join(rule['later_by'])}"})
    return at
