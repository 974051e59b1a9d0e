"""Lint a workflow definition: load errors plus graph checks a loader cannot see."""
from __future__ import annotations

from collections import defaultdict

from workflows.errors import DefinitionError, Problem
from workflows.guards import equality_test
from workflows.loader import load_text
from workflows.model import Transition, Workflow


def lint_text(text: str, file: str = "<string>") -> list[Problem]:
    """Every problem in `text`: load errors if it does not load, else the graph checks. Never raises."""
    try:
        definition = load_text(text, file)
    except DefinitionError as exc:
        return exc.problems
    problems: list[Problem] = []
    for workflow in definition.workflows.values():
        problems.extend(lint_workflow(workflow, file))
    return sorted(problems, key=lambda p: (p.line or 0, p.message))


def lint_workflow(workflow: Workflow, file: str) -> list[Problem]:
    out: list[Problem] = []

    def add(line, message, code, severity="error"):
        out.append(Problem(file, line, f"workflow {workflow.name!r}: {message}", severity, code))

    reachable = _reachable(workflow)
    for state in workflow.states.values():
        leaving = workflow.outgoing(state.name)
        if state.name not in reachable:
            add(state.line, f"state {state.name!r} cannot be reached from {workflow.initial!r}", "unreachable")
        if state.final and leaving:
            add(state.line, f"final state {state.name!r} has a way out ({leaving[0].event!r})", "final-exit")
        if not state.final and not leaving:
            hint = "mark it final" if not state.closed else "a closed state with no way out should be final"
            add(state.line, f"state {state.name!r} is not final but has no way out ({hint})", "dead-end")
        if leaving and not any(t.roles for t in leaving):
            add(state.line, f"no role can move a finding out of state {state.name!r}", "no-mover")
        if not state.final and not state.closed and state.due is None:
            add(state.line, f"state {state.name!r} waits without a due time", "no-due", "warning")
    # Only transitions sharing an event and a source can be ambiguous: compare within those groups, not all
    # pairs, and report each transition once (at the first earlier one it overlaps).
    groups: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for t in workflow.transitions:
        for source in t.sources:
            groups[(t.event, source)].append(t)
    tests = {t.index: equality_test(t.guard.source) if t.guard else None for t in workflow.transitions}
    reported = set()
    for (event, source), group in sorted(groups.items()):
        for i, b in enumerate(group):
            a = next((a for a in group[:i] if _may_overlap(tests[a.index], tests[b.index])), None)
            if a is not None and b.index not in reported:
                reported.add(b.index)
                add(b.line, f"event {event!r} from {source!r} is ambiguous: "
                            f"it overlaps the transition at line {a.line}", "ambiguous")
    return out


def _reachable(workflow: Workflow) -> set[str]:
    seen, todo = {workflow.initial}, [workflow.initial]
    while todo:
        for t in workflow.outgoing(todo.pop()):
            if t.dest not in seen:
                seen.add(t.dest)
                todo.append(t.dest)
    return seen


def _may_overlap(ta: tuple[str, str] | None, tb: tuple[str, str] | None) -> bool:
    """False only when two guards' equality tests provably exclude each other (`x == 1` against `x == 2`)."""
    if ta and tb and ta[0] == tb[0]:
        return ta[1] == tb[1]
    return True
