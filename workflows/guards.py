"""Guards are CEL expressions over `finding`, `payload` and `actor`; compiled once, never eval'd as Python."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import celpy
from celpy.evaluation import Evaluator

VARIABLES = ("finding", "payload", "actor")
MAX_LENGTH = 2000  # characters of guard text
MAX_DEPTH = 160  # levels of the parsed tree (about 14 nested parentheses); celpy evaluates by recursion
MAX_STEPS = 1000  # tree nodes visited in one evaluation (about 20 ms); the finding's row is locked meanwhile


class _OutOfBudget(BaseException):  # noqa: N818 - not an Exception, so celpy's handlers cannot swallow it
    """An evaluation ran past MAX_STEPS."""


class _Budget:
    __slots__ = ("left",)

    def __init__(self):
        self.left = MAX_STEPS


class _BudgetedEvaluator(Evaluator):
    """celpy's interpreter, counting every node it visits against one budget shared with its macro bodies."""

    budget: _Budget

    def sub_evaluator(self, ast):
        inner = _BudgetedEvaluator(ast, activation=self.activation)
        inner.budget = self.budget
        return inner

    def visit_children(self, tree):
        self.budget.left -= 1
        if self.budget.left < 0:
            raise _OutOfBudget
        return super().visit_children(tree)


class _BudgetedRunner(celpy.InterpretedRunner):
    def evaluate(self, context):
        evaluator = _BudgetedEvaluator(ast=self.ast, activation=self.new_activation())
        evaluator.budget = _Budget()
        return evaluator.evaluate(context)


_ENV = celpy.Environment(runner_class=_BudgetedRunner)


class GuardSyntaxError(ValueError):
    """The guard text is not a CEL expression."""


@dataclass(frozen=True, eq=False)
class Guard:
    source: str
    program: Any
    roots: tuple[str, ...] = VARIABLES  # the variables the expression reads; only these are converted
    equals: tuple[tuple[str, ...], str] | None = None  # (path, text) when the guard is `path == "text"`

    def allows(self, finding: dict, payload: dict, actor: dict) -> bool:
        """True when the expression is true; any evaluation error (a missing field, say) counts as false,
        and so does an evaluation that runs past its budget of steps."""
        context = {"finding": finding, "payload": payload, "actor": actor}
        if self.equals is not None:
            return _string_equals(context, *self.equals)
        activation = {root: celpy.json_to_cel(_whole_numbers(context[root])) for root in self.roots}
        try:
            result = self.program.evaluate(activation)
        except (celpy.CELEvalError, _OutOfBudget, RecursionError):
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
    if len(source) > MAX_LENGTH:
        raise GuardSyntaxError(f"guard is {len(source)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        ast = _ENV.compile(source)
        program = _ENV.program(ast)
    except celpy.CELParseError as exc:
        raise GuardSyntaxError(f"guard does not parse: {source!r}: {str(exc).strip()}") from None
    except RecursionError:
        raise GuardSyntaxError("guard is nested too deeply") from None
    if _depth(ast) > MAX_DEPTH:
        raise GuardSyntaxError(f"guard is nested too deeply (at most about {MAX_DEPTH // 11} levels of "
                               f"parentheses or operators)")
    unknown = _unknown_roots(source)
    if unknown:
        raise GuardSyntaxError(
            f"guard {source!r} uses {', '.join(sorted(unknown))}; only {', '.join(VARIABLES)} are known")
    text = _STRING.sub('""', source)
    roots = tuple(v for v in VARIABLES if re.search(rf"(?<![.\w]){v}\b", text))
    return Guard(source, program, roots, _string_equality(source))


def _depth(tree) -> int:
    """Depth of a parsed expression, counted without recursion (the tree may be very deep)."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in getattr(node, "children", ()) or ())
    return deepest


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
