"""`build_content`: the sections of a briefing computed from findings, audit rows and records of a period."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from engine import coverage, scorecard
from engine.actors import Actor, unit_subtree
from engine.briefings.content import (
    BriefingContent,
    CentreSection,
    Count,
    Highlight,
    Item,
    Masthead,
    Photo,
    RecordLine,
    Summary,
    UnitLine,
)
from engine.db import utcnow
from engine.labels import SANCTION_KIND_ZH, SEVERITY_ZH, SOURCE_ZH
from engine.models import (
    LEVELS,
    Attachment,
    AuditEntry,
    Briefing,
    Commendation,
    Finding,
    InspectionRound,
    Sanction,
    Unit,
)
from engine.places.config import loaded_config
from engine.unit_of_work import UnitOfWork

SERIES = "巡查简报"
# The centre's plan, then what it did (or, for a finding imported from a ledger, what the ledger said):
# the latest is its reply.
REPLY_KEYS = {"respond": "plan", "rectify": "note", "import": "reply"}
REPLY_EVENTS = tuple(REPLY_KEYS)
PHOTO_EVENTS = ("rectify", "verify")  # photos sent with these show the place after rectification
CHUNK = 900  # ids per IN (…) list
WORST_GAPS = 10
# A briefing goes to leaders and every centre: its coverage section shows every place, as an administrator sees.
BRIEFING_READER = Actor("briefing", ("admin",))


@dataclass(frozen=True)
class Scope:
    """What a briefing covers: campus days [start, end], and optionally rounds and one unit with those below."""

    start: date
    end: date
    rounds: tuple[int | str, ...] = ()  # inspection round ids; text: a legacy round name (no rounds in the data)
    unit: str | None = None


def build_content(uow: UnitOfWork, scope: Scope, *, number_text: str | None = None, issued: date | None = None,
                  corrects: str | None = None, now: datetime | None = None) -> BriefingContent:
    """Every section of the briefing, from the data as it stands at `now`."""
    session, zone, now = uow.session, uow.calendar.zone, now or utcnow()
    lo, hi = scorecard.period(scope.start, scope.end, zone)
    parents = uow.store.directory.parents(session)
    units = {u.id: u for u in session.scalars(sa.select(Unit))}
    reach = _reach(uow, scope.unit, units, parents)
    query = sa.select(Finding).where(Finding.created_at >= lo, Finding.created_at < hi).order_by(Finding.id)
    if reach is not None:
        query = query.where(Finding.unit_id.in_(sorted(reach)))
    if scope.rounds:
        ids, names = _round_ids(scope), [r for r in scope.rounds if isinstance(r, str)]
        query = query.where(sa.or_(Finding.round_id.in_(ids), Finding.inspection_round.in_(names)))
    findings = list(session.scalars(query))
    ids = [f.id for f in findings]
    replies, after_ids = replies_and_after_photos(session, ids)
    photos = _photos(session, ids)

    sections: dict[int, list[Item]] = defaultdict(list)
    tallies: dict[int, scorecard.Tally] = defaultdict(scorecard.Tally)
    for f in findings:
        workflow = uow.registry.get(session, f.workflow_name, f.workflow_version)
        state = workflow.states[f.state]
        closed = state.closed or (state.final and f.closed_on_time is not None)
        centre = _centre_of(f.unit_id, parents)
        tallies[centre] += _tally(f, state, now)
        befores = [p for p in photos.get(f.id, []) if p.attachment_id not in after_ids.get(f.id, ())]
        afters = [p for p in photos.get(f.id, []) if p.attachment_id in after_ids.get(f.id, ())]
        sections[centre].append(Item(
            id=f.id, title=f.title, location=f.location, category=f.category,
            severity=SEVERITY_ZH.get(f.severity, f.severity), unit=units[f.unit_id].name, state=f.state,
            state_label=state.label.zh if state.label else f.state, closed=closed,
            reported_at=_local(f.created_at, zone), deadline=_local(f.due_at, zone) if f.due_at else None,
            reply=replies.get(f.id), before=befores[0] if befores else None,
            after=afters[-1] if afters and closed else None))

    order = sorted(sections, key=lambda uid: units[uid].code)
    lines = [_line(units[uid].code, units[uid].name, tallies[uid]) for uid in order]
    total = _line("", "合计", sum(tallies.values(), scorecard.Tally()))
    summary = Summary(
        total=total, units=lines,
        categories=_counts(f.category for f in findings),
        severities=_counts(SEVERITY_ZH.get(f.severity, f.severity) for f in findings),
        sources=_counts(SOURCE_ZH.get(f.source, f.source) for f in findings))
    summary.previous, summary.change = _against_previous(uow, total, now)
    masthead = Masthead(department=_department(units, parents), series=SERIES, number_text=number_text,
                        date_text=_day(issued) if issued else None,
                        period_text=f"{_day(scope.start)}至{_day(scope.end)}", corrects=corrects)
    return BriefingContent(
        masthead=masthead, summary=summary,
        centres=[CentreSection(units[uid].code, units[uid].name, sections[uid]) for uid in order],
        highlights=_highlights(findings, units),
        sanctions=_sanctions(session, lo, hi, reach, units, zone),
        commendations=_commendations(session, lo, hi, reach, units, zone),
        coverage=_coverage(uow, scope, now), anchor=None, finding_ids=ids)


def _round_ids(scope: Scope) -> tuple[int, ...]:
    return tuple(r for r in scope.rounds if isinstance(r, int) and not isinstance(r, bool))


def _coverage(uow: UnitOfWork, scope: Scope, now: datetime) -> dict | None:
    """全覆盖 of the period (only the checks of the briefing's rounds, when it is for rounds): checks by level,
    service places and periods meeting their targets or not, by kind of place, and the worst gaps.
    {title, notes, tables: [{title, headers, rows, widths_mm}]}; None where no places are registered."""
    config = loaded_config(uow)
    if config is None:  # no places file loaded: places, rounds and coverage are not in use
        return None
    start = max(scope.start, scope.end - timedelta(days=coverage.MAX_DAYS))
    query = coverage.CoverageQuery(start, scope.end, unit=scope.unit, rounds=_round_ids(scope))
    rows = coverage.coverage(uow, BRIEFING_READER, query)
    if not rows:
        return None
    gaps = [g for g in coverage.gaps(uow, BRIEFING_READER, query, now=now, rows=rows) if g.reason == "below_target"]
    notes = []
    if query.rounds:
        names = uow.session.execute(sa.select(InspectionRound.id, InspectionRound.name)
                                    .where(InspectionRound.id.in_(query.rounds)).order_by(InspectionRound.id))
        notes.append("本节只统计" + "、".join(f"{name}（第{rid}号轮次）" for rid, name in names) + "的检查。")
    if start != scope.start:
        notes.append(f"覆盖情况统计最近{coverage.MAX_DAYS + 1}天（{_day(start)}起）。")
    by_level = {level: sum(r.checks.get(level, 0) for r in rows) for level in LEVELS}
    rated = [r for r in rows if r.met is not None]
    met = sum(1 for r in rated if r.met)
    notes.append(f"本期共检查{sum(by_level.values())}次，其中总务部督查{by_level['department']}次、"
                 f"中心自查{by_level['centre']}次；有覆盖要求的地点时段{len(rated)}个，达标{met}个，"
                 f"未达标{len(rated) - met}个" + (f"，达标率{met / len(rated) * 100:.1f}%。" if rated else "。"))
    kinds: dict[str, list] = {}
    order = {name: i for i, name in enumerate(config.kinds)}  # as the places file lists them
    for r in rows:
        line = kinds.setdefault(r.kind, [0, 0, 0, 0, 0])
        line[0] += 1
        line[1] += r.checks.get("department", 0)
        line[2] += r.checks.get("centre", 0)
        line[3] += r.met is True
        line[4] += r.met is False
    by_kind = [[_kind_zh(config, kind), n, dep, cen, ok, bad, f"{ok / (ok + bad) * 100:.1f}%" if ok + bad else "—"]
               for kind, (n, dep, cen, ok, bad) in sorted(kinds.items(), key=lambda kv: order.get(kv[0], len(order)))]
    headers = ["地点类型", "地点时段", "总务部督查", "中心自查", "达标", "未达标", "达标率"]
    tables = [{"title": "按地点类型统计", "headers": headers, "rows": by_kind,
               "widths_mm": [28, 20, 26, 22, 18, 20, 22]}]
    if gaps:
        worst = gaps[:WORST_GAPS]
        tables.append({"title": f"覆盖薄弱环节（缺查比例最高的{len(worst)}项，共{len(gaps)}项要求未达到）",
                       "headers": ["地点", "时段", "覆盖要求", "应查", "已查", "缺查"],
                       "rows": [[g.name, _period_zh(config, g.kind, g.period), g.target, g.required, g.achieved,
                                 g.missing] for g in worst],
                       "widths_mm": [42, 16, 44, 18, 18, 18]})
    else:
        notes.append("各地点时段均达到覆盖要求。")
    return {"title": "巡查覆盖情况", "notes": notes, "tables": tables}


def _kind_zh(config, kind: str) -> str:
    label = config.label_of(kind)
    return label.zh if label else kind


def _period_zh(config, kind: str, period: str | None) -> str:
    found = config.kinds[kind].periods.get(period) if kind in config.kinds and period else None
    return found.label.zh if found else (period or "")


def _reach(uow, code, units, parents) -> frozenset[int] | None:
    if code is None:
        return None
    unit_id = next((u.id for u in units.values() if u.code == code), None)
    if unit_id is None:
        from engine.errors import InvalidFields
        raise InvalidFields({"unit": f"no unit with code {code!r}"})
    return unit_subtree(uow.session, unit_id, parents)


def _centre_of(unit_id: int, parents: dict[int, int | None]) -> int:
    """The unit just below the top of the tree that `unit_id` belongs to (a service centre or an office)."""
    current = unit_id
    while parents.get(current) is not None and parents.get(parents[current]) is not None:
        current = parents[current]
    return current


def _department(units: dict[int, Unit], parents) -> str:
    tops = sorted(uid for uid in units if parents.get(uid) is None)
    return units[tops[0]].name if tops else ""


def _tally(f: Finding, state, now: datetime) -> scorecard.Tally:
    closed = state.closed or (state.final and f.closed_on_time is not None)
    dismissed = state.final and f.closed_on_time is None
    is_open = not (state.closed or state.final)
    return scorecard.Tally(
        received=1, dismissed=int(dismissed), closed=int(closed), closed_on_time=int(closed and bool(f.closed_on_time)),
        open=int(is_open), open_overdue=int(is_open and f.due_at is not None and f.due_at <= now),
        failed_verifications=f.failed_verifications, not_fixed=int(f.overdue_count > 0),
        repeat_found=int(f.repeat_count > 0), repeat_failed=int(f.failed_verifications + f.reopenings > 0))


def _line(code: str, name: str, t: scorecard.Tally) -> UnitLine:
    r = scorecard.rates(t)
    return UnitLine(code=code, name=name, received=t.received, due_to_close=t.received - t.dismissed,
                    closed=t.closed, closed_on_time=t.closed_on_time, open=t.open, open_overdue=t.open_overdue,
                    not_fixed=t.not_fixed, closure_rate=round(r.closure, 4), on_time_rate=round(r.on_time, 4),
                    rework_rate=round(r.rework, 4))


def _counts(values) -> list[Count]:
    return [Count(name, n) for name, n in sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))]


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def replies_and_after_photos(session, ids) -> tuple[dict[int, str], dict[int, set[int]]]:
    replies: dict[int, str] = {}
    after: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(ids):
        rows = session.execute(sa.select(AuditEntry.finding_id, AuditEntry.event, AuditEntry.payload)
                               .where(AuditEntry.finding_id.in_(chunk),
                                      AuditEntry.event.in_(REPLY_EVENTS + PHOTO_EVENTS))
                               .order_by(AuditEntry.finding_id, AuditEntry.seq))
        for finding_id, event, payload in rows:
            payload = payload or {}
            text = payload.get(REPLY_KEYS.get(event, ""))
            if event in REPLY_EVENTS and text:
                replies[finding_id] = str(text)
            if event in PHOTO_EVENTS:
                after[finding_id].update(i for i in payload.get("photos") or () if isinstance(i, int))
    return replies, after


def _photos(session, ids) -> dict[int, list[Photo]]:
    found: dict[int, list[Photo]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = session.execute(sa.select(Attachment.finding_id, Attachment.id, Attachment.sha256, Attachment.name,
                                         Attachment.content_type)
                               .where(Attachment.finding_id.in_(chunk),
                                      Attachment.content_type.in_(("image/jpeg", "image/png", "image/gif")))
                               .order_by(Attachment.id))
        for finding_id, attachment_id, sha, name, content_type in rows:
            found[finding_id].append(Photo(attachment_id, sha, name, content_type))
    return found


HIGHLIGHTS = (  # kind, label, how often a finding recurred in that class
    ("repeat_found", "屡查屡犯", lambda f: f.repeat_count),
    ("repeat_failed", "屡改屡犯", lambda f: f.failed_verifications + f.reopenings),
    ("not_fixed", "查而不改", lambda f: f.overdue_count),
)


def _highlights(findings: list[Finding], units: dict[int, Unit]) -> list[Highlight]:
    out = []
    for kind, label, count in HIGHLIGHTS:
        hits = sorted((f for f in findings if count(f) > 0), key=lambda f: (-count(f), f.id))
        out.append(Highlight(kind, label, [{"id": f.id, "title": f.title, "location": f.location,
                                            "unit": units[f.unit_id].name, "count": count(f)} for f in hits]))
    return out


def _sanctions(session, lo, hi, reach, units, zone) -> list[RecordLine]:
    query = sa.select(Sanction).where(Sanction.decided_at >= lo, Sanction.decided_at < hi)
    if reach is not None:
        query = query.where(Sanction.unit_id.in_(sorted(reach)))
    return [RecordLine(units[s.unit_id].name, SANCTION_KIND_ZH.get(s.kind, s.kind), s.decision, float(s.points or 0),
                       _local(s.decided_at, zone))
            for s in session.scalars(query.order_by(Sanction.decided_at, Sanction.id))]


def _commendations(session, lo, hi, reach, units, zone) -> list[RecordLine]:
    query = sa.select(Commendation).where(Commendation.at >= lo, Commendation.at < hi)
    if reach is not None:
        query = query.where(Commendation.unit_id.in_(sorted(reach)))
    return [RecordLine(units[c.unit_id].name, "表扬", f"{c.location}：{c.text}", float(c.points or 0),
                       _local(c.at, zone))
            for c in session.scalars(query.order_by(Commendation.at, Commendation.id))]


def _against_previous(uow: UnitOfWork, total: UnitLine, now: datetime) -> tuple[dict | None, dict | None]:
    """The totals of the latest briefing published before `now`, and the change against them."""
    previous = uow.session.scalars(
        sa.select(Briefing).where(Briefing.status == "published", Briefing.published_at <= now)
        .order_by(Briefing.published_at.desc(), Briefing.id.desc()).limit(1)).first()
    if previous is None or not previous.content:
        return None, None
    before = previous.content["summary"]["total"]
    info = {"id": previous.id, "number_text": previous.content["masthead"]["number_text"], **{
        k: before[k] for k in ("received", "closure_rate", "on_time_rate", "rework_rate", "open_overdue")}}
    change = {"received": total.received - before["received"],
              "open_overdue": total.open_overdue - before["open_overdue"],
              **{k: round((getattr(total, k) - before[k]) * 100, 1)
                 for k in ("closure_rate", "on_time_rate", "rework_rate")}}
    return info, change


def _local(at: datetime, zone) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
