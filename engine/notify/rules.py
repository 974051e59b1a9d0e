"""Notification rules: handlers that turn domain events into notices in the outbox (see engine.handlers)."""
from __future__ import annotations

from datetime import datetime

from engine import records
from engine.events import (
    BriefingPublished,
    CommendationRecorded,
    DeadlineMissed,
    FindingAdvanced,
    FindingReported,
    ReminderDue,
    SanctionRecorded,
)
from engine.models import Finding
from engine.notify import digest
from engine.notify.outbox import Notice, enqueue
from engine.notify.routing import config_for
from engine.unit_of_work import UnitOfWork

CENTRE, LEADER = ("role", "centre"), ("role", "leader")
ASSIGN, VERIFY, ESCALATE, SANCTION = "assign", "verify", "escalate", "sanction"  # events of the shipped workflow
SANCTION_KINDS_ZH = {"criticism": "通报批评", "warning": "警告", "deduction": "扣分", "contract_penalty": "合同罚则"}


def on_advance(uow: UnitOfWork, event: FindingAdvanced) -> None:
    """Assignment, verification result, escalation (an overdue one included), sanction; the public reporter's
    receipt follows every change of state."""
    if not config_for(uow.store).active:
        return
    f, t = event.finding, event.transition
    if t.event == ASSIGN:
        note = event.payload.get("note")
        _tell(uow, event, "assigned", f"【巡查交办】#{f.id} {f.title}", (CENTRE,),
              f"巡查问题 #{f.id}「{f.title}」已交办{_unit_name(uow, f)}，请于 {_due(uow, f)} 前回复整改计划。"
              + (f"\n交办意见：{note}" if note else ""),
              f"Finding #{f.id} was assigned to your unit; reply with a plan by {_due(uow, f)}.")
    elif t.event == VERIFY:
        passed = event.payload.get("verdict") == "pass"
        remark = event.payload.get("note")
        _tell(uow, event, "verified", f"【复查{'通过' if passed else '未通过'}】#{f.id} {f.title}", (CENTRE,),
              f"巡查问题 #{f.id}「{f.title}」复查{'通过，已整改销号' if passed else '未通过，请继续整改'}。"
              + (f"\n复查意见：{remark}" if remark else "")
              + ("" if passed else f"\n整改期限：{_due(uow, f)}"),
              f"Finding #{f.id}: verification {'passed; closed' if passed else f'failed; rectify by {_due(uow, f)}'}.")
    elif t.event == ESCALATE:
        if event.rule == "overdue":
            why = f"已超过{_state_label(uow, f, event.from_state)}期限，系统自动督办"
        elif event.rule:
            why = f"触发规则 {event.rule}，系统自动督办"
        else:
            why = f"由{event.actor.name}督办" + (f"：{event.payload['reason']}" if event.payload.get("reason") else "")
        _tell(uow, event, "escalated", f"【督办】#{f.id} {f.title}", (CENTRE, LEADER),
              f"巡查问题 #{f.id}「{f.title}」（{_unit_name(uow, f)}）{why}。督办期限：{_due(uow, f)}",
              f"Finding #{f.id} was escalated ({event.rule or event.actor.name}); due {_due(uow, f)}.")
    elif t.event == SANCTION and not records.deciding_several(uow):  # that decision is told once, as a whole
        kind = SANCTION_KINDS_ZH.get(event.payload.get("kind"), event.payload.get("kind", ""))
        _tell(uow, event, "sanction", f"【追责处理】#{f.id} {f.title}", (CENTRE, LEADER),
              f"巡查问题 #{f.id}「{f.title}」（{_unit_name(uow, f)}）处理方式：{kind}。"
              f"\n处理决定：{event.payload.get('decision', '')}",
              f"Finding #{f.id}: sanction ({event.payload.get('kind')}).")
    if event.from_state != f.state and f.source == "public":
        _receipt(uow, f, event.now, f"处理进度：{_state_label(uow, f)}", f"now: {_state_label(uow, f, lang='en')}")


def on_report(uow: UnitOfWork, event: FindingReported) -> None:
    """A report from the public channel gets its receipt (回执)."""
    if config_for(uow.store).active:
        _receipt(uow, event.finding, event.now, "已受理，我们会尽快处理", "received; we will deal with it")


def on_reminder(uow: UnitOfWork, event: ReminderDue) -> None:
    """The unit hears that a deadline is near, or, when its list is long, in tomorrow's daily digest."""
    config = config_for(uow.store)
    if not config.active:
        return
    f = event.finding
    folded = digest.folds(uow, config, f.unit_id, event.now)
    _queue(uow, "reminder", f, event.now, f"finding:{f.id}:seq:{f.audit_seq}:reminder",
           f"【整改提醒】#{f.id} {f.title}", (CENTRE,),
           f"巡查问题 #{f.id}「{f.title}」{event.state.label.zh}期限将至：{_due(uow, f)}",
           f"Finding #{f.id}: {event.state.label.en} is due at {_due(uow, f)}.", folded=folded)


def on_deadline_missed(uow: UnitOfWork, event: DeadlineMissed) -> None:
    """A deadline passed in a state with no automatic move (one that moves is told as an escalation)."""
    if event.action is not None or not config_for(uow.store).active:
        return
    f = event.finding
    _queue(uow, "overdue", f, event.now, f"finding:{f.id}:seq:{f.audit_seq}:overdue",
           f"【超期】#{f.id} {f.title}", (CENTRE, LEADER),
           f"巡查问题 #{f.id}「{f.title}」（{_unit_name(uow, f)}）已超过{event.state.label.zh}期限（{_due(uow, f)}）",
           f"Finding #{f.id}: {event.state.label.en} was due at {_due(uow, f)}.")


def on_sanction_recorded(uow: UnitOfWork, event: SanctionRecorded) -> None:
    s = event.sanction
    ids = sorted(link.finding_id for link in s.findings)
    name = uow.store.directory.unit(uow.session, s.unit_id).name
    kind = SANCTION_KINDS_ZH.get(s.kind, s.kind)
    enqueue(uow, Notice("sanction", f"sanction:{s.id}", f"【追责处理】{name} {kind}",
                        f"{name}因巡查问题 {'、'.join(f'#{i}' for i in ids)} 受到{kind}处理"
                        + (f"，扣 {s.points:g} 分" if s.points else "") + f"。\n处理决定：{s.decision}"
                        + f"\n\n{name}: sanction ({s.kind}) for findings {', '.join(map(str, ids))}.",
                        (CENTRE, LEADER), unit_id=s.unit_id,
                        data={"sanction": {"id": s.id, "kind": s.kind, "points": s.points, "findings": ids}}),
            now=event.now)


def on_commendation_recorded(uow: UnitOfWork, event: CommendationRecorded) -> None:
    c = event.commendation
    name = uow.store.directory.unit(uow.session, c.unit_id).name
    enqueue(uow, Notice("commendation", f"commendation:{c.id}", f"【表扬】{name} {c.location}",
                        f"{name}在{c.location}的做法受到表扬：{c.text}"
                        + (f"（加 {c.points:g} 分）" if c.points else "") + f"\n\n{name} was commended.",
                        (CENTRE,), unit_id=c.unit_id,
                        data={"commendation": {"id": c.id, "location": c.location, "points": c.points}}),
            now=event.now)


def on_briefing_published(uow: UnitOfWork, event: BriefingPublished) -> None:
    for unit_id in event.unit_ids:
        enqueue(uow, Notice("briefing", f"briefing:{event.number}", f"【巡查简报】{event.number} {event.title}",
                            f"巡查简报{event.number}《{event.title}》已发布" + (f"：{event.url}" if event.url else "")
                            + f"\n\nBriefing {event.number} was published.", (CENTRE, LEADER), unit_id=unit_id,
                            data={"briefing": {"number": event.number, "title": event.title, "url": event.url}}),
                now=event.now)


# --- shared --------------------------------------------------------------------------------------------------

def _tell(uow: UnitOfWork, event: FindingAdvanced, kind: str, subject: str, audience: tuple, zh: str,
          en: str) -> None:
    f = event.finding
    _queue(uow, kind, f, event.now, f"finding:{f.id}:seq:{f.audit_seq}", subject, audience, zh, en)


def _queue(uow: UnitOfWork, kind: str, f: Finding, now: datetime | None, cause: str, subject: str,
           audience: tuple, zh: str, en: str, *, folded: bool = False) -> None:
    body = f"{zh}\n地点：{f.location}\n类别：{f.category}\n\n{en}"
    enqueue(uow, Notice(kind, cause, subject, body, audience, unit_id=f.unit_id, finding_id=f.id,
                        data={"finding": _finding_data(uow, f)}, status="folded" if folded else "pending"), now=now)


def _receipt(uow: UnitOfWork, f: Finding, now: datetime | None, zh: str, en: str) -> None:
    if f.source != "public" or f.reporter_id is None:
        return
    reporter = uow.store.directory.user_name(uow.session, f.reporter_id)
    # The receipt names the problem and its progress, never the unit's people.
    enqueue(uow, Notice("receipt", f"finding:{f.id}:seq:{f.audit_seq}:receipt", f"【回执】您反映的问题 #{f.id}",
                        f"您反映的问题 #{f.id}「{f.title}」{zh}。\n\nYour report #{f.id} “{f.title}”: {en}.",
                        (("user", reporter),), unit_id=f.unit_id, finding_id=f.id,
                        data={"finding": {"id": f.id, "title": f.title, "state": f.state}}), now=now)


def _finding_data(uow: UnitOfWork, f: Finding) -> dict:
    return {"id": f.id, "title": f.title, "category": f.category, "location": f.location, "state": f.state,
            "unit": uow.store.directory.unit(uow.session, f.unit_id).code,
            "due_at": f.due_at.isoformat() if f.due_at else None}


def _state_label(uow: UnitOfWork, f: Finding, state: str | None = None, lang: str = "zh") -> str:
    workflow = uow.registry.get(uow.session, f.workflow_name, f.workflow_version)
    label = workflow.states[state or f.state].label
    return label.zh if lang == "zh" else label.en


def _unit_name(uow: UnitOfWork, f: Finding) -> str:
    return uow.store.directory.unit(uow.session, f.unit_id).name


def _due(uow: UnitOfWork, f: Finding) -> str:
    return f.due_at.astimezone(uow.calendar.zone).strftime("%Y-%m-%d %H:%M") if f.due_at else "-"
