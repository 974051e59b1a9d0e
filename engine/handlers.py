"""Which handlers each domain event reaches, in order: the one table to read (or extend) to see side effects.

A new rule or record subscribes here; `services.advance` and `services.report_finding` never change for it."""
from __future__ import annotations

from engine import messagebus, records, recurrence
from engine.events import (
    BriefingPublished,
    CommendationRecorded,
    DeadlineMissed,
    FindingAdvanced,
    FindingReported,
    ReminderDue,
    SanctionRecorded,
)
from engine.notify import rules as notify

HANDLERS = {
    # A report alone sets off no recurrence rule: the rules wait until a person accepts the finding.
    FindingReported: [
        notify.on_report,  # the public reporter's receipt
    ],
    FindingAdvanced: [
        records.on_advance,  # firing `sanction` records its Sanction
        recurrence.on_accept,  # 屡查屡犯 / 查而不改: links and the rules' events, once the finding is accepted
        recurrence.on_advance,  # 屡改屡犯 may fire its rule's event
        notify.on_advance,  # assignment, verification, escalation, sanction, receipt: to the outbox
    ],
    ReminderDue: [notify.on_reminder],  # the sweep: a deadline is near (or in the unit's daily digest)
    DeadlineMissed: [notify.on_deadline_missed],  # the sweep: a deadline passed with no automatic move
    SanctionRecorded: [notify.on_sanction_recorded],
    CommendationRecorded: [notify.on_commendation_recorded],
    BriefingPublished: [notify.on_briefing_published],
}

for _event_type, _handlers in HANDLERS.items():
    for _handler in _handlers:
        messagebus.subscribe(_event_type, _handler)
