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
    roots: tuple[str, ...] = VARIABLES  # the variables the expression reads; only these are converted
    equals: tuple[tuple[str, ...], str] | None = None  # (path, text) when the guard is `path == "text"`

    def allows(self, finding: dict, payload: dict, actor: dict) -> bool:
        """True when the expression is true; any evaluation error (a missing field, say) counts as false."""
        context = {"finding": finding, "payload": payload, "actor": actor}
        if self.equals is not None:
            return _string_equals(context, *self.equals)
        activation = {root: celpy.json_to_cel(_whole_numbers(context[root])) for root in self.roots}
        try:
            result = self.program.evaluate(activation)
        except celpy.CELEvalError:
            return False
        if isinstance(result, celpy.CELEvalError):
            return False
        return bool(result) and isinstance(result, celpy.celtypes.BoolType)


def _whole_numbers(value):
    # JSON does not tell 3 from 3.0, but CEL does (3 == 3.0 is an error): whole numbers reach guards as ints,
    # so `payload.points == 3` holds whichever way the client wrote it; use double(x) for fractional limits.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _string_equals(context: dict, path: tuple[str, ...], text: str) -> bool:
    # The commonest guard (`payload.verdict == "pass"`) is answered without walking CEL's tree; the result is
    # CEL's own: a missing member or a value of another type is an error in CEL, and errors count as false.
    value: Any = context
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return isinstance(value, str) and value == text


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
    text = _STRING.sub('""', source)
    roots = tuple(v for v in VARIABLES if re.search(rf"(?<![.\w]){v}\b", text))
    return Guard(source, program, roots, _string_equality(source))


def _string_equality(source: str) -> tuple[tuple[str, ...], str] | None:
    match = _EQUALITY.match(source)
    if not match or match[2][0] not in "'\"" or "\\" in match[2]:
        return None
    path = tuple(match[1].split("."))
    if path[0] not in VARIABLES or len(path) < 2:
        return None
    return path, match[2][1:-1]


_IDENT = re.compile(r"(?<![.\w\"'])([A-Za-z_]\w*)\s*(?=[.\[])")
_CALL = re.compile(r"(?<![.\w\"'])([A-Za-z_]\w*)\s*(?=\()")
# CEL's own global functions and macros; any other call (`__import__(...)`) could only fail at run time.
_FUNCTIONS = {name for name in celpy.evaluation.base_functions if name[0].isalpha()} | {"has", "dyn"}
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _unknown_roots(source: str) -> set[str]:
    """Root names followed by `.` or `[` that are not guard variables (CEL would fail only at run time)."""
    text = _STRING.sub('""', source)
    bound = set(_MACRO_VARIABLE.findall(text))  # `list.exists(i, i.ok)` binds `i`
    return ({name for name in _IDENT.findall(text) if name not in VARIABLES and name not in bound}
            | {name for name in _CALL.findall(text) if name not in _FUNCTIONS})


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
