"""Compiled workflows of one database by (name, version): each stored text is compiled once and shared."""
from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy import orm

from engine.errors import NotFound
from engine.models import WorkflowVersion
from workflows import Workflow, load_text


class WorkflowRegistry:
    """Versions never change once stored, so a compiled one (and its Machine) is kept for the process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._compiled: dict[tuple[str, int], Workflow] = {}

    def get(self, session: orm.Session, name: str, number: int) -> Workflow:
        workflow = self._compiled.get((name, number))
        if workflow is not None:
            return workflow
        text = session.scalar(sa.select(WorkflowVersion.yaml_text)
                              .where(WorkflowVersion.name == name, WorkflowVersion.number == number))
        if text is None:
            raise NotFound("workflow version", f"{name} v{number}")
        with self._lock:
            workflow = self._compiled.get((name, number))
            if workflow is None:
                workflow = load_text(text, f"{name} v{number}").workflows[name]
                self._compiled[(name, number)] = workflow
        return workflow

    def active(self, session: orm.Session, name: str) -> tuple[WorkflowVersion, Workflow]:
        row = session.scalars(sa.select(WorkflowVersion).where(
            WorkflowVersion.name == name, WorkflowVersion.active.is_(True))).first()
        if row is None:
            raise NotFound("workflow", name)
        return row, self.get(session, name, row.number)
