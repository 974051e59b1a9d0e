"""Check a transition's payload against the fields its YAML declares."""
from __future__ import annotations

import math
from datetime import date

from workflows.model import Transition


def field_problems(transition: Transition, payload: dict) -> tuple[dict[str, str], bool]:
    """({field: message}, only_missing) — empty when the payload fits; unknown keys are errors, never dropped."""
    problems: dict[str, str] = {}
    declared = {f.name: f for f in transition.fields}
    for key in payload:
        if key not in declared:
            expected = ", ".join(sorted(declared)) or "none"
            problems[key] = f"unknown field for event {transition.event!r}; expected one of: {expected}"
    only_missing = not problems
    for spec in transition.fields:
        value = payload.get(spec.name)
        if value is None or value == "" or value == []:
            if spec.required:
                problems[spec.name] = "required"
            continue
        message = _check(spec, value)
        if message:
            problems[spec.name] = message
            only_missing = False
    return problems, only_missing


def _check(spec, value) -> str | None:
    if spec.type == "text":
        if not isinstance(value, str):
            return "must be text"
        if spec.max_length and len(value) > spec.max_length:
            return f"at most {spec.max_length} characters"
    elif spec.type == "choice":
        if value not in spec.choices:
            return f"must be one of {', '.join(map(str, spec.choices))}"
    elif spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "must be a number"
        if spec.min is not None and value < spec.min:
            return f"must be at least {spec.min:g}"
        if spec.max is not None and value > spec.max:
            return f"must be at most {spec.max:g}"
    elif spec.type == "date":
        if not isinstance(value, str) or not _is_date(value):
            return "must be a date as YYYY-MM-DD"
    elif spec.type == "attachments":
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "must be a list of attachment ids"
    return None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
