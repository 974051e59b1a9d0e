"""Diagrams: Mermaid text with every state and edge, in Chinese or English; SVG only when Graphviz exists."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workflows import diagram as diagram_module
from workflows import load_file, load_text
from workflows.diagram import dot, mermaid, svg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workflow():
    return load_file(ROOT / "workflows.yaml").workflows["finding"]


def test_mermaid_has_every_state_with_its_chinese_label(workflow):
    text = mermaid(workflow)
    assert text.startswith("stateDiagram-v2\n")
    for state in workflow.states.values():
        assert f'state "{state.label.zh}" as {state.name}' in text
    assert "[*] --> reported" in text
    assert '"协调解决中（难点问题）"' in text


def test_mermaid_has_every_edge_with_its_label(workflow):
    lines = mermaid(workflow).splitlines()
    for t in workflow.transitions:
        for source in t.sources:
            assert any(line.strip().startswith(f"{source} --> {t.dest}: {t.label.zh}") for line in lines), \
                (t.event, source)
    edges = [line for line in lines if "-->" in line and "[*]" not in line]
    assert len(edges) == sum(len(t.sources) for t in workflow.transitions)


def test_mermaid_marks_guards_and_final_states(workflow):
    text = mermaid(workflow)
    assert 'verifying --> closed: 复查通过 [payload.verdict == "pass"]' in text
    assert "archived --> [*]" in text and "dismissed --> [*]" in text
    assert "closed --> [*]" not in text  # closed can be reopened, so it is not an end


def test_mermaid_in_english(workflow):
    text = mermaid(workflow, lang="en")
    assert 'state "Awaiting verification" as verifying' in text
    assert "assigned --> rectifying: Reply with a plan" in text
    assert "待复查" not in text and "复查通过" not in text


def test_colons_in_labels_do_not_break_mermaid():
    wf = load_text("""\
workflows:
  w:
    label: w
    initial: a
    reporters: [r]
    roles: {r: {label: r}}
    states: {a: {label: A, due: 1h}, b: {label: B, final: true}}
    transitions:
      - {event: go, from: a, to: b, roles: [r], label: "step: one; two"}
""").workflows["w"]
    edge = [line for line in mermaid(wf).splitlines() if "a --> b" in line][0]
    assert edge.count(":") == 1 and "step： one； two" in edge


def test_dot_quotes_labels(workflow):
    text = dot(workflow)
    assert text.startswith('digraph "finding" {')
    assert 'closed [label="已整改销号", peripheries=2];' in text
    assert "verifying -> rectifying" in text


def test_svg_is_none_without_graphviz(workflow, monkeypatch):
    monkeypatch.setattr(diagram_module.shutil, "which", lambda name: None)
    assert svg(workflow) is None


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_with_graphviz(workflow):
    text = svg(workflow)
    assert "<svg" in text and "</svg>" in text
    assert "待复查" in text
