"""The finding as a Django team would write it with django-fsm-2: an FSMField and one @transition per event."""
from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

# Plain calendar days: a Django team would not have the engine's working-time calendar.
DUE = {"reported": 1, "assigned": 2, "rectifying": 5, "verifying": 2}
REMIND = {"reported": 0.25, "assigned": 1, "rectifying": 1, "verifying": 0.25}


class Finding(models.Model):
    title = models.CharField(max_length=300)
    category = models.CharField(max_length=100)
    location = models.CharField(max_length=300)
    unit = models.CharField(max_length=64)
    state = FSMField(default="reported", protected=True, db_index=True)
    version = models.IntegerField(default=1)
    state_entered_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, db_index=True)
    remind_at = models.DateTimeField(null=True, db_index=True)
    closed_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(default=timezone.now)
    failed_verifications = models.IntegerField(default=0)
    reopenings = models.IntegerField(default=0)

    class Meta:
        app_label = "peer_django"

    def _entered(self, state: str) -> None:
        # Runs inside the transition, before django-fsm sets the new state, so the state is passed in.
        now = timezone.now()
        self.state_entered_at = self.updated_at = now
        days = DUE.get(state)
        self.due_at = now + timedelta(days=days) if days else None
        self.remind_at = self.due_at - timedelta(days=REMIND[state]) if days else None
        self.closed_at = now if state == "closed" else None
        self.version += 1

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source="reported", target="assigned")
    def assign(self, note: str = "", by=None, description=None):
        self._entered("assigned")

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source="assigned", target="rectifying")
    def respond(self, plan: str, by=None, description=None):
        if not plan:
            raise ValueError("plan is required")
        self._entered("rectifying")

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=["assigned", "rectifying", "escalated"], target="verifying")
    def rectify(self, note: str, by=None, description=None):
        if not note:
            raise ValueError("note is required")
        self._entered("verifying")

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source="verifying", target=RETURN_VALUE("closed", "rectifying"))
    def verify(self, verdict: str, note: str = "", by=None, description=None):
        if verdict not in ("pass", "fail"):
            raise ValueError("verdict must be pass or fail")
        target = "closed" if verdict == "pass" else "rectifying"
        if verdict == "fail":
            self.failed_verifications += 1
        self._entered(target)
        return target

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source="closed", target="rectifying")
    def reopen(self, reason: str, by=None, description=None):
        if not reason:
            raise ValueError("reason is required")
        self.reopenings += 1
        self._entered("rectifying")
