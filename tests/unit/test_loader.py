"""Loading workflow YAML: every error names the file, the line and the thing at fault; nothing half-loads."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflows import DefinitionError, load_file, load_text

ROOT = Path(__file__).resolve().parents[2]

MINI = """\
version: 1
workflows:
  mini:
    label: 小流程
    initial: open
    reporters: [clerk]
    roles:
      clerk: {label: 职员}
    states:
      open: {label: 待办, due: 2h, on_overdue: finish}
      done: {label: {zh: 已完成, en: Done}, final: true}
    transitions:
      - event: finish
        from: open
        to: done
        roles: [clerk]
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle` (so tests do not hard-code line numbers)."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def problems_of(text: str, file: str = "wf.yaml"):
    with pytest.raises(DefinitionError) as caught:
        load_text(text, file)
    assert caught.value.problems, "a DefinitionError must list its problems"
    return caught.value.problems


def only_problem(text: str):
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.file == "wf.yaml" and problem.severity == "error"
    assert str(problem).startswith(f"wf.yaml:{problem.line}: ")
    return problem


def test_minimal_workflow_loads_with_both_label_forms():
    definition = load_text(MINI, "wf.yaml")
    wf = definition.workflows["mini"]
    assert wf.initial == "open"
    assert wf.label.zh == wf.label.en == "小流程"  # one string serves both languages
    assert (wf.states["done"].label.zh, wf.states["done"].label.en) == ("已完成", "Done")
    assert wf.states["open"].line == line_of(MINI, "open: {label")
    assert wf.transitions[0].line == line_of(MINI, "- event: finish")


def test_shipped_workflows_keep_chinese_labels_intact():
    wf = load_file(ROOT / "workflows.yaml").workflows["finding"]
    assert wf.label.zh == "巡查问题整改闭环"
    assert wf.states["coordinating"].label.zh == "协调解决中（难点问题）"
    assert wf.states["closed"].label.en == "Rectified and closed"
    verify_fail = [t for t in wf.transitions if t.event == "verify" and t.dest == "rectifying"][0]
    assert verify_fail.reason.zh == "复查结论须为通过或不通过"
    assert wf.roles["centre"].label.zh == "服务中心" and wf.roles["centre"].scope == "unit"


@pytest.mark.parametrize("old, new", [("from: open", "from: [open, nowhere]"), ("to: done", "to: nowhere")])
def test_transition_to_or_from_unknown_state(old, new):
    text = MINI.replace(f"        {old}\n", f"        {new}\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, new)
    assert "'nowhere'" in problem.message and "finish" in problem.message


def test_duplicate_state_key_names_the_state_and_its_second_line():
    text = MINI.replace("    transitions:\n", "      open: {label: 又一个}\n    transitions:\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "open: {label: 又一个}")
    assert "duplicate" in problem.message and "'open'" in problem.message


def test_unknown_role_in_a_transition():
    text = MINI.replace("        roles: [clerk]\n", "        roles: [clerk, janitor]\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "roles: [clerk, janitor]")
    assert "'janitor'" in problem.message


def test_unknown_role_in_reporters():
    text = MINI.replace("reporters: [clerk]", "reporters: [clerk, ghost]")
    problem = only_problem(text)
    assert problem.line == line_of(text, "reporters:")
    assert "reporters" in problem.message and "'ghost'" in problem.message


def test_missing_initial_state():
    text = MINI.replace("    initial: open\n", "")
    problem = only_problem(text)
    assert problem.line == line_of(text, "    states:")
    assert "initial" in problem.message


def test_two_initial_states_are_both_named():
    text = (MINI.replace("    initial: open\n", "")
            .replace("open: {label: 待办,", "open: {label: 待办, initial: true,")
            .replace("final: true}", "final: true, initial: true}"))
    problem = only_problem(text)
    assert "more than one initial" in problem.message
    assert "'open'" in problem.message and "'done'" in problem.message


def test_initial_naming_a_missing_state():
    problem = only_problem(MINI.replace("initial: open", "initial: opened"))
    assert problem.line == line_of(MINI, "initial: open")
    assert "'opened'" in problem.message


def test_guard_that_does_not_parse():
    text = MINI.replace("        roles: [clerk]\n", "        roles: [clerk]\n        guard: payload.x ==\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "guard:")
    assert "does not parse" in problem.message and "payload.x ==" in problem.message


def test_guard_using_an_unknown_variable():
    text = MINI.replace("        roles: [clerk]\n", "        roles: [clerk]\n        guard: request.ip == '1'\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "guard:")
    assert "request" in problem.message and "finish" in problem.message


def test_wrong_field_type_names_the_field():
    text = MINI.replace("        roles: [clerk]\n",
                        "        roles: [clerk]\n        fields:\n          size: {type: integer}\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "size: {type: integer}")
    assert "fields.size.type" in problem.message


@pytest.mark.parametrize("where, old, new, needle, path", [
    ("workflow", "    initial: open\n", "    initial: open\n    colour: red\n", "colour: red", "mini.colour"),
    ("state", "final: true}", "final: true, colour: red}", "done: {label", "states.done.colour"),
    ("transition", "        to: done\n", "        to: done\n        when: later\n", "when: later",
     "transitions.0.when"),
])
def test_unknown_keys_are_refused_with_their_path(where, old, new, needle, path):
    text = MINI.replace(old, new)
    problem = only_problem(text)
    assert problem.line == line_of(text, needle)
    assert path in problem.message and "Unknown field" in problem.message


def test_bad_duration_text():
    text = MINI.replace("due: 2h", "due: soon")
    problem = only_problem(text)
    assert problem.line == line_of(text, "due: soon")
    assert "states.open.due" in problem.message and "'soon'" in problem.message


def test_on_overdue_must_leave_the_state():
    text = MINI.replace("on_overdue: finish", "on_overdue: escalate")
    problem = only_problem(text)
    assert problem.line == line_of(text, "open: {label")
    assert "'escalate'" in problem.message and "'open'" in problem.message


def test_on_overdue_needs_a_due_time():
    problem = only_problem(MINI.replace("due: 2h, ", ""))
    assert "on_overdue needs a due time" in problem.message


def test_yaml_syntax_error_gives_a_line():
    text = MINI.replace("      clerk: {label: 职员}", "      clerk: {label: 职员")
    problem = only_problem(text)
    assert problem.message.startswith("YAML:")
    assert problem.line == line_of(text, "    states:")  # where the parser noticed the open brace


def test_file_that_is_not_a_mapping():
    problem = only_problem("- just\n- a list\n")
    assert "workflows" in problem.message


def test_several_problems_are_all_reported():
    text = (MINI.replace("reporters: [clerk]", "reporters: [ghost]")
            .replace("        to: done\n", "        to: nowhere\n"))
    messages = " | ".join(p.message for p in problems_of(text))
    assert "'ghost'" in messages and "'nowhere'" in messages


def test_one_bad_workflow_stops_the_whole_file():
    second = MINI.split("workflows:\n", 1)[1].replace("  mini:", "  broken:").replace("to: done", "to: void")
    text = MINI + second
    problems = problems_of(text)
    assert len(problems) == 1 and "'broken'" in problems[0].message
    assert problems[0].line == line_of(text, "to: void")


def test_two_good_workflows_load_together():
    text = MINI + MINI.split("workflows:\n", 1)[1].replace("  mini:", "  other:")
    assert set(load_text(text).workflows) == {"mini", "other"}


def test_load_file_reports_an_unreadable_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(DefinitionError) as caught:
        load_file(missing)
    assert caught.value.problems[0].file == str(missing)
    assert "cannot read" in caught.value.problems[0].message


def test_libyaml_reading_gives_the_same_tree_and_lines_as_pure_python_pyyaml():
    from pathlib import Path

    import yaml

    from workflows import yamlsrc

    text = (Path(__file__).resolve().parents[2] / "workflows.yaml").read_text(encoding="utf-8")

    class Reference(yaml.SafeLoader):
        pass

    Reference.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yamlsrc._construct_mapping)
    Reference.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, yamlsrc._construct_sequence)
    fast, slow = yamlsrc.parse(text), yaml.load(text, Loader=Reference)  # noqa: S506 - SafeLoader

    def lines(node):
        if isinstance(node, dict):
            return [node.line, sorted(node.key_lines.items())] + [lines(v) for v in node.values()]
        if isinstance(node, list):
            return [node.line] + [lines(v) for v in node]
        return None

    assert fast == slow and lines(fast) == lines(slow)


def test_an_error_at_the_end_of_the_text_names_its_last_line():
    from workflows.errors import DefinitionError
    from workflows.loader import load_text

    for text, line in (("workflows: [unclosed", 1), ("workflows:\n  a: [1,\n", 2), ("a: 1\na: 2\n", 2)):
        try:
            load_text(text, "w.yaml")
        except DefinitionError as exc:
            assert exc.problems[0].line == line, (text, exc.problems)
        else:
            raise AssertionError(f"{text!r} loaded")
