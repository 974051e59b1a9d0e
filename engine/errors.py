"""Domain errors: every failure a use case can report, named for what the user did wrong."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service reports on purpose; nothing was changed when one is raised."""

    title = "Request refused"

    def as_dict(self) -> dict:
        return {"detail": str(self)}


class NotFound(DomainError):
    title = "Not found"

    def __init__(self, what: str, key):
        self.what, self.key = what, key
        super().__init__(f"{what} {key!r} not found")


class NotAllowed(DomainError):
    title = "Not allowed"

    def __init__(self, message: str, roles_needed=()):
        self.roles_needed = tuple(roles_needed)
        super().__init__(message)


class MissingFields(DomainError):
    title = "Missing fields"

    def __init__(self, fields: dict[str, str]):
        self.fields = dict(fields)
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in self.fields.items()))


class InvalidFields(MissingFields):
    title = "Invalid fields"


class GuardRefused(DomainError):
    title = "Refused by the workflow's rule"

    def __init__(self, reason: str, reason_en: str | None = None, guard: str | None = None):
        self.reason, self.reason_en, self.guard = reason, reason_en or reason, guard
        super().__init__(reason)


class InvalidEvent(DomainError):
    title = "Event not possible in this state"

    def __init__(self, state: str, event: str, allowed):
        self.state, self.event, self.allowed = state, event, list(allowed)
        super().__init__(f"event {event!r} is not possible from state {state!r}; "
                         f"possible: {', '.join(self.allowed) or 'none'}")


class VersionConflict(DomainError):
    title = "Version conflict"

    def __init__(self, expected: int, actual: int):
        self.expected, self.actual = expected, actual
        super().__init__(f"finding changed: expected version {expected}, it is at {actual}")


class InvalidToken(DomainError):
    """A bearer token that names no usable user: unknown, expired, or its user disabled."""

    title = "Invalid token"


class InvalidInput(DomainError):
    """A use case's own input is wrong (a mapping that leaves a state unmapped, an unknown unit)."""

    title = "Invalid input"


class WorkflowRejected(DomainError):
    """A workflow file did not load or lint; `problems` lists each with its line."""

    title = "Workflow rejected"

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class Conflict(DomainError):
    """The request contradicts what a record has become (a published briefing cannot change)."""

    title = "Conflict"


class RowsRejected(DomainError):
    """Rows of an imported sheet are wrong; `rows` names each: {row, column, message} (in Chinese). Nothing was
    stored."""

    title = "Rows rejected"

    def __init__(self, rows: list[dict], message: str | None = None):
        self.rows = list(rows)
        self.problems = self.rows  # the name the place import uses
        super().__init__(message or "; ".join(f"第{p['row']}行 {p['column']}: {p['message']}"
                                              for p in self.rows[:20]))
