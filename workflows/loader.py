"""Load a workflow file: parse with line numbers, validate the shape, resolve names, compile guards."""
from __future__ import annotations

from pathlib import Path

import yaml
from marshmallow import ValidationError

from workflows import yamlsrc
from workflows.calendars import OFFICE, CalendarSpec
from workflows.errors import DefinitionError, Problem
from workflows.guards import GuardSyntaxError, compile_guard
from workflows.model import Definition, Field, Label, Role, State, Transition, Workflow
from workflows.rules import rule_problems
from workflows.schema import FileSchema


def load_file(path: str | Path) -> Definition:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError([Problem(str(path), None, f"cannot read: {exc}")]) from None
    return load_text(text, str(path))


def load_text(text: str, file: str = "<string>") -> Definition:
    """Build every workflow in `text`, or raise DefinitionError listing all problems; nothing half-loads."""
    from workflows.machine import build_machine

    tree = _parse(text, file)
    try:
        data = FileSchema().load(tree)
    except ValidationError as exc:
        raise DefinitionError(_shape_problems(exc.messages, tree, file)) from None
    problems: list[Problem] = []
    calendars = {name: CalendarSpec(name, _label(raw["label"]), raw["hours"], raw["days"],
                                    tree["calendars"].line_of(name)) for name, raw in data["calendars"].items()}
    built = {}
    for name, raw in data["workflows"].items():
        node = tree["workflows"][name]
        workflow = _resolve(name, raw, node, file, problems, calendars)
        if workflow is not None:
            built[name] = workflow
    if problems:
        raise DefinitionError(problems)
    for workflow in built.values():
        workflow.machine = build_machine(workflow)
    return Definition(built, text, file, calendars)


def _parse(text: str, file: str):
    try:
        tree = yamlsrc.parse(text)
    except yaml.YAMLError as exc:
        line = yamlsrc.error_line(exc, text)
        message = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        raise DefinitionError([Problem(file, line, f"YAML: {context + ': ' if context else ''}{message}")]) from None
    if not isinstance(tree, dict):
        raise DefinitionError([Problem(file, 1, "the file must be a mapping with a 'workflows' key")])
    return tree


def _shape_problems(messages, tree, file: str) -> list[Problem]:
    """Turn marshmallow's nested messages into one problem per leaf, with the line of the key at fault."""
    problems: list[Problem] = []

    def walk(msgs, node, path):
        if isinstance(msgs, list):
            for m in msgs:
                if isinstance(m, (dict, list)):
                    walk(m, node, path)
                else:
                    problems.append(Problem(file, _line(node, path), f"{'.'.join(map(str, path)) or 'file'}: {m}"))
            return
        for key, sub in msgs.items():
            if key in ("value", "key") and isinstance(node, dict) and key not in node:
                walk(sub, node, path)  # marshmallow's Dict marks keys/values this way
                continue
            child = _child(node, key)
            walk(sub, child if child is not None else node, path + [key])

    walk(messages, tree, [])
    return problems


def _child(node, key):
    if isinstance(node, dict):
        return node.get(key) if isinstance(node.get(key), (dict, list)) else None
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key] if isinstance(node[key], (dict, list)) else None
    return None


def _line(node, path) -> int | None:
    if path and isinstance(node, yamlsrc.LinedDict) and path[-1] in node.key_lines:
        return node.line_of(path[-1])
    return getattr(node, "line", None)


def _label(raw) -> Label | None:
    return Label(raw["zh"], raw["en"]) if raw else None


def _resolve(name, raw, node, file, problems, calendars) -> Workflow | None:
    """Check the names that refer to each other (states, roles, events) and build the objects."""
    start = len(problems)

    def problem(line, message):
        problems.append(Problem(file, line, f"workflow {name!r}: {message}"))

    roles = {r: Role(r, _label(v["label"]), v["scope"], node["roles"].line_of(r)) for r, v in raw["roles"].items()}
    states = {}
    for s, v in raw["states"].items():
        states[s] = State(s, _label(v["label"]), v["final"], v["closed"], v["due"], v["on_overdue"], v["remind_before"],
                          node["states"].line_of(s))
    initial = _initial(raw, node, states, problem)

    transitions = []
    for index, (t, tnode) in enumerate(zip(raw["transitions"], node["transitions"], strict=True)):
        for src in t["source"]:
            if src not in states:
                problem(tnode.line_of("from"), f"transition {t['event']!r} comes from unknown state {src!r}")
        if t["dest"] not in states:
            problem(tnode.line_of("to"), f"transition {t['event']!r} goes to unknown state {t['dest']!r}")
        for role in t["roles"]:
            if role not in roles:
                problem(tnode.line_of("roles"), f"transition {t['event']!r} names unknown role {role!r}")
        guard = None
        if t["guard"] is not None:
            try:
                guard = compile_guard(t["guard"])
            except GuardSyntaxError as exc:
                problem(tnode.line_of("guard"), f"transition {t['event']!r}: {exc}")
        transitions.append(Transition(
            event=t["event"], sources=tuple(t["source"]), dest=t["dest"], roles=tuple(t["roles"]),
            label=_label(t["label"]) or Label(t["event"], t["event"]),
            fields=tuple(Field(fname, f["type"], f["required"], _label(f["label"]), tuple(f["choices"]),
                               f["min"], f["max"], f["max_length"]) for fname, f in t["fields_"].items()),
            guard=guard, reason=_label(t["reason"]), increment=tuple(t["increment"]),
            line=tnode.line, index=index))

    for role in raw["reporters"]:
        if role not in roles:
            problem(node.line_of("reporters"), f"reporters names unknown role {role!r}")
    for state in states.values():
        if state.final and state.closed:
            problem(state.line, f"state {state.name!r}: a state is either final or closed (reopenable), not both")
        if state.on_overdue and not any(state.name in t.sources and t.event == state.on_overdue
                                        for t in transitions):
            problem(state.line, f"state {state.name!r}: on_overdue event {state.on_overdue!r} does not leave it")
        if state.on_overdue and not state.due:
            problem(state.line, f"state {state.name!r}: on_overdue needs a due time")
        if state.remind_before and not state.due:
            problem(state.line, f"state {state.name!r}: remind_before needs a due time")
        for key in ("due", "remind_before"):
            named = getattr(state, key).calendar if getattr(state, key) else None
            if named and named != OFFICE and named not in calendars:
                problem(node["states"][state.name].line_of(key),
                        f"state {state.name!r}: {key} names unknown calendar {named!r}; "
                        f"known: {', '.join(sorted({OFFICE, *calendars}))}")
    problems.extend(rule_problems(name, raw["rules"], node.get("rules"), states, roles, transitions, file,
                                  initial))
    if len(problems) > start:
        return None
    return Workflow(name, _label(raw["label"]), initial, roles, states, transitions,
                    tuple(raw["reporters"]), dict(raw["rules"]), node.line, calendars=calendars)


def _initial(raw, node, states, problem) -> str | None:
    marked = [s for s, v in raw["states"].items() if v["initial"]]
    if raw["initial"] is not None:
        if raw["initial"] not in states:
            problem(node.line_of("initial"), f"initial state {raw['initial']!r} is not a state")
            return None
        if marked and marked != [raw["initial"]]:
            problem(node.line_of("initial"), f"initial is {raw['initial']!r} but {marked} are marked initial")
        return raw["initial"]
    if len(marked) == 1:
        return marked[0]
    if not marked:
        problem(node.line_of("states"), "missing initial state: set 'initial:' or mark one state 'initial: true'")
    else:
        problem(node.line_of("states"), f"more than one initial state: {marked}")
    return None
