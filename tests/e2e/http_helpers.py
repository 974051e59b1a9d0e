"""Helpers for HTTP tests: a caller bound to one user's token, and shortcuts to report and move findings."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

PREFIX = "/api/v1"
_places = itertools.count(1)


@dataclass
class Caller:
    """Sends requests to /api/v1 as one user (or anonymously when token is None)."""

    client: object
    token: str | None

    def open(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        return self.client.open(PREFIX + path, method=method, headers=sent, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)


def report(caller: Caller, **fields) -> dict:
    """Report a finding through the API (defaults: a FOOD finding) and return its JSON.

    Each default location is new, so the workflow's recurrence rules (same category, same place) stay out of
    tests that are not about them."""
    body = {"title": "一食堂地面湿滑", "category": "卫生", "location": f"实验{next(_places)}号楼门口", "unit": "FOOD",
            **fields}
    response = caller.post("/findings", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fire(caller: Caller, finding_id: int, event: str, payload: dict | None = None, **kwargs):
    """POST a transition; returns the response."""
    return caller.post(f"/findings/{finding_id}/transitions", json={"event": event, "payload": payload or {}},
                       **kwargs)


def audit_rows(campus, finding_id: int) -> int:
    """How many audit rows the finding has, read straight from the database."""
    import sqlalchemy as sa

    from engine.models import AuditEntry

    with campus.store.uow(write=False) as uow:
        return uow.session.scalar(sa.select(sa.func.count()).where(AuditEntry.finding_id == finding_id))
