"""Turn engine objects into the plain data the response schemas dump."""
from __future__ import annotations

from datetime import datetime

from engine.admin import Loaded
from engine.db import utcnow
from engine.models import Attachment, AuditEntry, WorkflowVersion
from engine.queries import FindingView, WorkflowInfo
from workflows.errors import Problem
from workflows.model import Field, Label, Transition


def label(value: Label | None) -> dict | None:
    return value.as_dict() if value else None


def field_spec(spec: Field) -> dict:
    return {"name": spec.name, "type": spec.type, "required": spec.required, "label": label(spec.label),
            "choices": list(spec.choices), "min": spec.min, "max": spec.max, "max_length": spec.max_length}


def event(transition: Transition) -> dict:
    return {"name": transition.event, "label": label(transition.label), "to": transition.dest,
            "field_specs": [field_spec(f) for f in transition.fields]}


def finding(view: FindingView, now: datetime | None = None) -> dict:
    f, now = view.finding, now or utcnow()
    state = view.workflow.states[f.state]
    data = {
        "id": f.id, "title": f.title, "description": f.description, "category": f.category,
        "location": f.location, "source": f.source, "severity": f.severity,
        "unit": {"code": view.unit.code, "name": view.unit.name, "name_en": view.unit.name_en},
        "inspection_round": f.inspection_round,
        "place": f.place.code if f.place_id is not None else None, "round": f.round_id, "check": f.check_id,
        "found_by": f.found_by,
        "workflow": {"name": f.workflow_name, "version": f.workflow_version},
        "state": {"name": f.state, "label": label(state.label), "final": state.final, "closed": state.closed},
        "version": f.version, "due_at": f.due_at, "remind_at": f.remind_at, "due_calendar": f.due_calendar,
        "overdue": f.due_at is not None and f.due_at < now,
        "failed_verifications": f.failed_verifications, "reopenings": f.reopenings,
        "overdue_count": f.overdue_count, "repeat_of": view.repeat_of, "repeat_count": f.repeat_count,
        "closed_on_time": f.closed_on_time, "deadline_at": f.deadline_at,
        "created_at": f.created_at, "updated_at": f.updated_at, "closed_at": f.closed_at,
        "reporter": view.reporter,
    }
    if view.contact is not None:  # only inspectors and administrators are given it (engine.public)
        data["reporter_contact"] = view.contact
    if view.events is not None:
        data["events"] = [event(t) for t in view.events]
    return data


def audit_row(entry: AuditEntry, unit: str | None = None) -> dict:
    return {
        "id": entry.id, "finding_id": entry.finding_id, "unit": unit, "seq": entry.seq, "event": entry.event,
        "from_state": entry.from_state, "to_state": entry.to_state, "actor": entry.actor, "role": entry.role,
        "at": entry.at, "payload": entry.payload, "comment": entry.comment, "workflow": entry.workflow_name,
        "workflow_version": entry.workflow_version, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


def attachment(item: Attachment) -> dict:
    return {"id": item.id, "finding_id": item.finding_id, "name": item.name, "content_type": item.content_type,
            "size": item.size, "sha256": item.sha256, "uploaded_by": item.uploaded_by,
            "created_at": item.created_at}


def workflow_summary(info: WorkflowInfo) -> dict:
    row = info.row
    return {"name": row.name, "version": row.number, "label": label(info.workflow.label), "sha256": row.sha256,
            "created_by": row.created_by, "created_at": row.created_at}


def workflow_detail(info: WorkflowInfo) -> dict:
    wf = info.workflow
    return {
        **workflow_summary(info), "initial": wf.initial, "reporters": list(wf.reporters), "yaml": info.row.yaml_text,
        "roles": [{"name": r.name, "label": label(r.label), "scope": r.scope} for r in wf.roles.values()],
        "states": [{"name": s.name, "label": label(s.label), "final": s.final, "closed": s.closed,
                    "due": str(s.due) if s.due else None,
                    "remind_before": str(s.remind_before) if s.remind_before else None,
                    "on_overdue": s.on_overdue} for s in wf.states.values()],
        "transitions": [{"event": t.event, "label": label(t.label), "sources": list(t.sources), "dest": t.dest,
                         "roles": list(t.roles), "field_specs": [field_spec(f) for f in t.fields],
                         "guard": t.guard.source if t.guard else None, "reason": label(t.reason),
                         "increment": list(t.increment)} for t in wf.transitions],
        "calendars": [{"name": c.name, "label": label(c.label), "hours": c.hours, "days": c.days}
                      for c in wf.calendars.values()],
    }


def version(row: WorkflowVersion) -> dict:
    return {"version": row.number, "sha256": row.sha256, "created_by": row.created_by,
            "created_at": row.created_at, "active": row.active}


def line_problem(p: Problem) -> dict:
    return {"line": p.line, "message": p.message, "severity": p.severity, "code": p.code}


def lint_result(problems: list[Problem]) -> dict:
    errors = sum(p.severity == "error" for p in problems)
    return {"ok": errors == 0, "errors": errors, "warnings": len(problems) - errors,
            "problems": [line_problem(p) for p in problems]}


def loaded(item: Loaded) -> dict:
    return {"name": item.name, "version": item.number, "created": item.created}
