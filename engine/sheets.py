"""Rows with Chinese headers for the Excel exports of scorecards, sanctions, coverage and the audit log.

Like the ledger (engine/ledger.py), each export is a COLUMNS tuple of (header, width in characters[, number
format]) and plain rows: times in campus local time (naive), rates as fractions, no spreadsheet code here."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.coverage import CoverageRow, Gap
from engine.labels import SANCTION_KIND_ZH
from engine.models import AuditEntry, Sanction, Unit
from engine.places.config import current_config
from engine.scorecard import Scorecard
from engine.unit_of_work import UnitOfWork

PERCENT = "0.0%"
SCORECARD_COLUMNS = (
    ("名次", 6), ("单位代码", 12), ("单位", 18), ("起始日期", 12), ("截止日期", 12), ("参与排名", 9),
    ("收到问题", 9), ("应结案", 8), ("已结案", 8), ("按期结案", 9), ("结案率", 9, PERCENT),
    ("按期结案率", 11, PERCENT), ("返工率", 9, PERCENT), ("超期率", 9, PERCENT), ("未结案", 8), ("超期未改", 9),
    ("查而不改", 9), ("屡查屡犯", 9), ("屡改屡犯", 9), ("问责次数", 9), ("问责扣分", 9), ("表扬次数", 9),
    ("表扬加分", 9), ("自查自纠", 9), ("自查自纠加分", 12), ("漏查", 7), ("漏查扣分", 9), ("综合得分", 10))
SANCTION_COLUMNS = (("编号", 8), ("单位代码", 12), ("责任单位", 18), ("问责方式", 12), ("扣分", 8),
                    ("金额（元）", 12), ("合同", 16), ("涉及问题编号", 18), ("决定人", 12), ("决定时间", 17),
                    ("决定内容", 50))
COVERAGE_COLUMNS = (("地点代码", 14), ("地点", 22), ("类型", 10), ("责任单位代码", 14), ("服务时段", 10),
                    ("总务部督查次数", 10), ("中心自查次数", 10), ("最近检查时间", 17), ("全部达标", 9),
                    ("未达标要求", 36))
GAP_COLUMNS = (("地点代码", 14), ("地点", 22), ("类型", 10), ("责任单位代码", 14), ("服务时段", 10),
               ("原因", 12), ("要求", 28), ("应查", 7), ("已查", 7), ("缺查", 7), ("最近检查时间", 17))
AUDIT_COLUMNS = (("日志编号", 10), ("问题编号", 9), ("单位代码", 12), ("链内序号", 8), ("事件", 14),
                 ("原状态", 14), ("新状态", 14), ("操作人", 12), ("角色", 10), ("时间", 17), ("内容", 40),
                 ("备注", 30), ("流程", 10), ("流程版本", 8), ("前一行哈希", 20), ("本行哈希", 20))
GAP_REASONS_ZH = {"below_target": "未达要求", "not_checked": "长期未查"}


def _local(at: datetime | None, zone) -> datetime | None:
    return at.astimezone(zone).replace(tzinfo=None) if at else None


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def scorecard_rows(cards: list[Scorecard], zone) -> list[list]:
    """One row per scorecard; the period as campus days, its last day included."""
    out = []
    for c in cards:
        t, r = c.tally, c.rates
        out.append([c.rank, c.unit, c.name, c.start.astimezone(zone).date(),
                    (c.end.astimezone(zone) - timedelta(microseconds=1)).date(), _yes_no(c.rated), t.received,
                    t.received - t.dismissed, t.closed, t.closed_on_time, r.closure, r.on_time, r.rework, r.overdue,
                    t.open, t.open_overdue, t.not_fixed, t.repeat_found, t.repeat_failed, t.sanctions,
                    t.sanction_points, t.commendations, t.commendation_points, t.self_corrected,
                    t.self_correction_points, t.missed, t.missed_points, c.score])
    return out


def sanction_rows(uow: UnitOfWork, sanctions: list[Sanction]) -> list[list]:
    units = {uid: (code, name) for uid, code, name in uow.session.execute(sa.select(Unit.id, Unit.code, Unit.name))}
    zone = uow.calendar.zone
    return [[s.id, *units.get(s.unit_id, ("", "")), SANCTION_KIND_ZH.get(s.kind, s.kind), s.points, s.amount,
             s.contract or "", "、".join(str(link.finding_id) for link in sorted(s.findings, key=_finding_of)),
             s.decided_by, _local(s.decided_at, zone), s.decision or ""] for s in sanctions]


def _finding_of(link) -> int:
    return link.finding_id


class _Names:
    """Chinese names of place kinds and service periods from the places file (the code where none is given)."""

    def __init__(self, uow: UnitOfWork):
        self.config = current_config(uow)

    def kind(self, kind: str) -> str:
        label = self.config.label_of(kind)
        return label.zh if label else kind

    def period(self, kind: str, period: str | None) -> str:
        if period is None:
            return ""
        found = self.config.kinds.get(kind)
        found = found.periods.get(period) if found else None
        return found.label.zh if found else period


def coverage_rows(uow: UnitOfWork, rows: list[CoverageRow]) -> list[list]:
    names, zone = _Names(uow), uow.calendar.zone
    return [[r.place, r.name, names.kind(r.kind), r.unit or "", names.period(r.kind, r.period),
             r.checks.get("department", ""), r.checks.get("centre", ""), _local(r.last_check_at, zone),
             _yes_no(r.met), "；".join(t.name for t in r.targets if not t.met)] for r in rows]


def gap_rows(uow: UnitOfWork, gaps: list[Gap]) -> list[list]:
    names, zone = _Names(uow), uow.calendar.zone
    return [[g.place, g.name, names.kind(g.kind), g.unit or "", names.period(g.kind, g.period),
             GAP_REASONS_ZH.get(g.reason, g.reason), g.target or "", g.required, g.achieved, g.missing,
             _local(g.last_check_at, zone)] for g in gaps]


def audit_rows(rows: Iterable[tuple[AuditEntry, str | None]], zone) -> Iterator[list]:
    """One row per audit row, as they stream from `queries.export_audit`."""
    for e, code in rows:
        payload = json.dumps(e.payload, ensure_ascii=False, sort_keys=True) if e.payload else ""
        yield [e.id, e.finding_id, code or "", e.seq, e.event, e.from_state or "", e.to_state or "", e.actor, e.role,
               _local(e.at, zone), payload, e.comment or "", e.workflow_name or "", e.workflow_version,
               e.prev_hash or "", e.hash]
