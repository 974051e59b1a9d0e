"""Draw a workflow as a Mermaid state diagram, or as SVG through Graphviz's `dot` when it is installed."""
from __future__ import annotations

import shutil
import subprocess

from workflows.model import Workflow


def mermaid(workflow: Workflow, lang: str = "zh") -> str:
    lines = ["stateDiagram-v2"]
    for state in workflow.states.values():
        lines.append(f'    state "{_label(state.label, lang)}" as {state.name}')
    lines.append(f"    [*] --> {workflow.initial}")
    for t in workflow.transitions:
        text = _label(t.label, lang) + (f" [{t.guard.source}]" if t.guard else "")
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest}: {_escape(text)}")
    for state in workflow.states.values():
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines) + "\n"


def dot(workflow: Workflow, lang: str = "zh") -> str:
    lines = [f'digraph "{workflow.name}" {{', "  rankdir=LR;",
             '  node [shape=box, style=rounded, fontname="Noto Sans CJK SC"];']
    for state in workflow.states.values():
        shape = ", peripheries=2" if state.final or state.closed else ""
        lines.append(f'  {state.name} [label="{_quote(_label(state.label, lang))}"{shape}];')
    for t in workflow.transitions:
        for source in t.sources:
            lines.append(f'  {source} -> {t.dest} [label="{_quote(_label(t.label, lang))}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(workflow: Workflow, lang: str = "zh") -> str | None:
    """SVG text, or None when Graphviz is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    # Fixed argv; the DOT text goes to stdin, so nothing from YAML reaches a command line.
    done = subprocess.run([exe, "-Tsvg"], input=dot(workflow, lang).encode("utf-8"),  # noqa: S603
                          capture_output=True, check=True, timeout=30)
    return done.stdout.decode("utf-8")


def _label(label, lang: str) -> str:
    return label.zh if lang == "zh" else label.en


def _escape(text: str) -> str:
    return text.replace(":", "：").replace(";", "；")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
