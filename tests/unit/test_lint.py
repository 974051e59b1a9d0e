"""Lint: graph checks a loader cannot see, each naming the line and the state at fault."""
from __future__ import annotations

from pathlib import Path

from workflows.lint import lint_text

ROOT = Path(__file__).resolve().parents[2]

# A clean three-state loop; each test bends one thing.
BASE = """\
version: 1
workflows:
  loop:
    label: {zh: 小闭环, en: Small loop}
    initial: open
    reporters: [clerk]
    roles:
      clerk: {label: 职员}
      boss: {label: 领导}
    states:
      open: {label: 待办, due: 1 working day}
      checking: {label: 待复查, due: 2h}
      done: {label: 完成, final: true}
    transitions:
      - event: submit
        from: open
        to: checking
        roles: [clerk]
      - event: check
        from: checking
        to: done
        roles: [boss]
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line][nth - 1]


def lint(text: str):
    return lint_text(text, "wf.yaml")


def with_code(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"no {code!r} among {[str(p) for p in problems]}"
    return found


def test_base_is_clean():
    assert lint(BASE) == []


def test_shipped_workflows_lint_clean():
    problems = lint_text((ROOT / "workflows.yaml").read_text(encoding="utf-8"), "workflows.yaml")
    assert [p for p in problems if p.severity == "error"] == []
    assert [p for p in problems if p.severity == "warning"] == []


def test_unreachable_state():
    text = BASE.replace("      done:", "      limbo: {label: 悬空, final: true}\n      done:")
    (problem,) = with_code(lint(text), "unreachable")
    assert problem.severity == "error" and problem.file == "wf.yaml"
    assert problem.line == line_of(text, "limbo:")
    assert "'limbo'" in problem.message and "'loop'" in problem.message
    assert str(problem).startswith(f"wf.yaml:{problem.line}: error:")


def test_non_final_dead_end():
    text = BASE.replace("done: {label: 完成, final: true}", "done: {label: 完成, due: 1d}")
    (problem,) = with_code(lint(text), "dead-end")
    assert problem.severity == "error"
    assert problem.line == line_of(text, "done: {label")
    assert "'done'" in problem.message


def test_final_state_with_a_way_out():
    text = BASE + """\
      - event: undo
        from: done
        to: open
        roles: [boss]
"""
    (problem,) = with_code(lint(text), "final-exit")
    assert problem.severity == "error"
    assert problem.line == line_of(text, "done: {label")
    assert "'done'" in problem.message and "'undo'" in problem.message


def test_state_no_role_can_leave():
    text = BASE.replace("        roles: [boss]\n", "        roles: []\n")
    (problem,) = with_code(lint(text), "no-mover")
    assert problem.severity == "error"
    assert problem.line == line_of(text, "checking: {label")
    assert "'checking'" in problem.message


def test_waiting_state_without_due_is_a_warning_only():
    text = BASE.replace("checking: {label: 待复查, due: 2h}", "checking: {label: 待复查}")
    problems = lint(text)
    (problem,) = with_code(problems, "no-due")
    assert problem.severity == "warning"
    assert problem.line == line_of(text, "checking: {label")
    assert "'checking'" in problem.message
    assert [p for p in problems if p.severity == "error"] == []


def test_closed_state_needs_no_due():
    text = BASE.replace("done: {label: 完成, final: true}", "done: {label: 完成, closed: true}") + """\
      - event: reopen
        from: done
        to: open
        roles: [boss]
"""
    assert lint(text) == []


def _second_check(guard_a: str | None, guard_b: str | None) -> str:
    def block(dest, guard):
        extra = f"        guard: {guard}\n" if guard else ""
        return (f"      - event: check\n        from: checking\n        to: {dest}\n        roles: [boss]\n"
                f"{extra}        fields:\n          verdict: {{type: choice, choices: [pass, fail]}}\n")
    head = BASE.split("      - event: check\n")[0]
    return head + block("done", guard_a) + block("open", guard_b)


def test_same_event_and_source_unguarded_is_ambiguous():
    text = _second_check(None, None)
    (problem,) = with_code(lint(text), "ambiguous")
    assert problem.severity == "error"
    assert problem.line == line_of(text, "- event: check", nth=2)
    assert "'check'" in problem.message and "'checking'" in problem.message
    assert f"line {line_of(text, '- event: check')}" in problem.message


def test_one_guard_against_no_guard_is_ambiguous():
    with_code(lint(_second_check('payload.verdict == "pass"', None)), "ambiguous")


def test_overlapping_guards_are_ambiguous():
    with_code(lint(_second_check('payload.verdict == "pass"', "payload.verdict == 'pass'")), "ambiguous")
    with_code(lint(_second_check('payload.verdict == "pass"', 'payload.verdict != "pass"')), "ambiguous")


def test_exclusive_equality_guards_are_not_ambiguous():
    problems = lint(_second_check('payload.verdict == "pass"', 'payload.verdict == "fail"'))
    assert [p for p in problems if p.code == "ambiguous"] == []
    assert problems == []


def test_same_event_from_different_states_is_not_ambiguous():
    text = BASE + """\
      - event: check
        from: open
        to: done
        roles: [boss]
"""
    assert [p for p in lint(text) if p.code == "ambiguous"] == []


def test_lint_returns_load_errors_instead_of_raising():
    text = BASE.replace("to: done", "to: nowhere")
    problems = lint(text)
    assert len(problems) == 1
    assert problems[0].line == line_of(text, "to: nowhere") and "'nowhere'" in problems[0].message


def test_problems_are_sorted_by_line():
    text = (BASE.replace("checking: {label: 待复查, due: 2h}", "checking: {label: 待复查}")
            .replace("      done:", "      limbo: {label: 悬空, final: true}\n      done:"))
    lines = [p.line for p in lint(text)]
    assert len(lines) == 2 and lines == sorted(lines)


def test_an_unknown_calendar_is_named_with_its_line():
    text = "calendars:\n  catering: {label: 餐饮, hours: '06:00-20:00', days: all_but_holidays}\n" + BASE.replace(
        "version: 1\n", "").replace("due: 2h}", "due: 2h, remind_before: 1 hour on catring}")
    problems = lint_text(text, "w.yaml")
    line = line_of(text, "on catring")
    assert [str(p) for p in problems] == [
        f"w.yaml:{line}: error: workflow 'loop': state 'checking': remind_before names unknown calendar 'catring'; "
        "known: catering, office"]
    assert lint_text(text.replace("catring", "catering"), "w.yaml") == []


def test_a_calendar_with_bad_hours_or_days_is_named_with_its_line():
    text = "calendars:\n  night:\n    label: 夜班\n    hours: '22:00-06:00'\n    days: weekends\n" + BASE
    messages = {(p.line, p.message.split(":")[0]) for p in lint_text(text, "w.yaml")}
    assert messages == {(4, "calendars.night.hours"), (5, "calendars.night.days")}


def test_each_ambiguous_transition_is_reported_once():
    text = BASE.replace("      - event: check", "      - {event: submit, from: open, to: done, roles: [boss]}\n"
                        "      - {event: submit, from: open, to: done, roles: [clerk]}\n      - event: check")
    ambiguous = [p for p in lint_text(text) if p.code == "ambiguous"]
    assert [p.line for p in ambiguous] == [19, 20], ambiguous  # two transitions, not three pairs


def test_billion_laughs_is_refused_with_its_line():
    bomb = "workflows:\n  x:\n    a: &a [l, l, l, l, l, l, l, l, l, l]\n" + "".join(
        f"    {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))
    problems = lint_text(bomb, "bomb.yaml")
    assert [(p.line, p.message) for p in problems] == [(8, "YAML: aliases expand to more than 50000 nodes")]
    assert lint_text("workflows:\n  x: &a [1]\n  y: *a\n", "ok.yaml")[0].message != problems[0].message


def test_deep_nesting_and_size_are_refused_with_a_line_not_a_crash():
    deep = lint_text("workflows:\n  x: " + "[" * 3000 + "]" * 3000 + "\n", "deep.yaml")
    assert [(p.line, p.message) for p in deep] == [(2, "YAML: nested more than 32 levels deep")]
    huge = lint_text("# " + "x" * 70_000 + "\n", "huge.yaml")
    assert "at most 65536" in huge[0].message


def test_too_many_states_or_transitions_are_refused():
    states = "".join(f"      s{i}: {{label: s, final: true}}\n" for i in range(101))
    text = BASE.replace("      done: {label: 完成, final: true}\n", "      done: {label: 完成, final: true}\n" + states)
    assert any("at most 100 states" in p.message for p in lint_text(text))
