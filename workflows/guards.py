"""Guards are CEL expressions over `finding`, `payload` and `actor`; compiled once, never eval'd as Python."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import celpy

_ENV = celpy.Environment()
VARIABLES = ("finding", "payload", "actor")


class GuardSyntaxError(ValueError):
    """The guard text is not a CEL expression."""


@dataclass(frozen=True, eq=False)
class Guard:
    source: str
    program: Any

    def allows(self, finding: dict, payload: dict, actor: dict) -> bool:
        """True when the expression is true; any evaluation error (a missing field, say) counts as false."""
        activation = {
            "finding": celpy.json_to_cel(finding),
            "payload": celpy.json_to_cel(payload),
            "actor": celpy.json_to_cel(actor),
        }
        try:
            result = self.program.evaluate(activation)
        except celpy.CELEvalError:
            return False
        if isinstance(result, celpy.CELEvalError):
            return False
        return bool(result) and isinstance(result, celpy.celtypes.BoolType)


def compile_guard(source: str) -> Guard:
    """Compile CEL text; raises GuardSyntaxError with the parser's message."""
    if not isinstance(source, str) or not source.strip():
        raise GuardSyntaxError("a guard must be a non-empty CEL expression")
    try:
        ast = _ENV.compile(source)
        program = _ENV.program(ast)
    except celpy.CELParseError as exc:
        raise GuardSyntaxError(f"guard does not parse: {source!r}: {str(exc).strip()}") from None
    unknown = _unknown_roots(source)
    if unknown:
        raise GuardSyntaxError(
            f"guard {source!r} uses {', '.join(sorted(unknown))}; only {', '.join(VARIABLES)} are known")
    return Guard(source, program)


_IDENT = re.compile(r"(?<![.\w\"'])([A-Za-z_]\w*)\s*(?=[.\[])")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _unknown_roots(source: str) -> set[str]:
    """Root names followed by `.` or `[` that are not guard variables (CEL would fail only at run time)."""
    text = _STRING.sub('""', source)
    return {name for name in _IDENT.findall(text) if name not in VARIABLES}


_EQUALITY = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*==\s*(\"[^\"]*\"|'[^']*'|-?\d+(?:\.\d+)?|true|false)\s*$")


def equality_test(source: str) -> tuple[str, str] | None:
    """(path, literal) when the guard is just `path == literal`; lint uses it to prove guards exclusive."""
    match = _EQUALITY.match(source)
    if not match:
        return None
    literal = match[2]
    if literal[0] in "'\"":
        literal = literal[1:-1]
    return match[1], literal
