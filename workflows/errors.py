"""Problems found in a workflow definition, each pinned to a file and line."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a definition."""

    file: str
    line: int | None
    message: str
    severity: str = "error"  # "error" stops loading; "warning" is only reported by lint
    code: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}" + (f" [{self.code}]" if self.code else "")

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "message": self.message,
                "severity": self.severity, "code": self.code}


class DefinitionError(Exception):
    """A definition could not be loaded; nothing of it was kept."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
