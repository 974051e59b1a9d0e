"""Workflow texts are checked in a child process: the same problems as in-process, and a run-away check is cut off."""
from __future__ import annotations

import os
from pathlib import Path

from engine import checking
from workflows.lint import lint_text

SHIPPED = (Path(__file__).resolve().parents[2] / "workflows.yaml").read_text(encoding="utf-8")
BROKEN = SHIPPED.replace("to: rectifying", "to: nowhere", 1)


def test_the_child_finds_what_lint_finds_in_process():
    assert checking.lint_apart(BROKEN, "w.yaml") == lint_text(BROKEN, "w.yaml")
    assert any("nowhere" in p.message for p in checking.lint_apart(BROKEN, "w.yaml"))
    pid = checking._pool._processes and next(iter(checking._pool._processes.values())).pid
    assert pid and pid != os.getpid()  # the work ran elsewhere


def test_a_check_past_its_time_is_stopped_and_the_next_one_works(monkeypatch):
    monkeypatch.setattr(checking, "CHECK_SECONDS", 0.0001)
    [problem] = checking.lint_apart(SHIPPED, "w.yaml")
    assert problem.severity == "error" and problem.code == "too-slow"
    monkeypatch.setattr(checking, "CHECK_SECONDS", 20.0)
    assert checking.lint_apart(SHIPPED, "w.yaml") == lint_text(SHIPPED, "w.yaml")
