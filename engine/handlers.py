"""Which handlers each domain event reaches, in order: the one table to read (or extend) to see side effects.

A new rule or record subscribes here; `services.advance` and `services.report_finding` never change for it."""
from __future__ import annotations

from engine import messagebus, records, recurrence
from engine.events import FindingAdvanced, FindingReported

HANDLERS = {
    # A report alone sets nothing off: the recurrence rules wait until a person accepts the finding.
    FindingReported: [],
    FindingAdvanced: [
        records.on_advance,  # firing `sanction` records its Sanction
        recurrence.on_accept,  # 屡查屡犯 / 查而不改: links and the rules' events, once the finding is accepted
        recurrence.on_advance,  # 屡改屡犯 may fire its rule's event
    ],
}

for _event_type, _handlers in HANDLERS.items():
    for _handler in _handlers:
        messagebus.subscribe(_event_type, _handler)
