"""The rectification ledger (整改台账): one row per finding with Chinese headers, for the Excel export."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from engine import queries
from engine.actors import Actor
from engine.briefings.build import replies_and_after_photos
from engine.db import utcnow
from engine.labels import SEVERITY_ZH, SOURCE_ZH
from engine.models import Finding
from engine.unit_of_work import UnitOfWork

# header, width in characters; the import reads the same headers back (engine/imports/mapping.py)
COLUMNS = (("编号", 8), ("问题描述", 36), ("详细情况", 40), ("类别", 10), ("严重程度", 9), ("地点", 22),
           ("责任单位", 16), ("来源", 12), ("巡查批次", 14), ("状态", 14), ("发现日期", 17), ("整改期限", 17),
           ("结案日期", 17), ("按期结案", 9), ("整改情况", 40), ("复查未通过次数", 8), ("重开次数", 8),
           ("超期次数", 8), ("屡查次数", 8), ("链接", 10))
BATCH = 1000


@dataclass(frozen=True)
class Link:
    """A cell that links to the finding's page."""

    finding_id: int
    text: str = "查看"


def ledger_rows(uow: UnitOfWork, actor: Actor, filters: queries.FindingFilters,
                now: datetime | None = None) -> Iterator[list]:
    """The ledger's rows, campus local times (naive) in the date columns. Filters and permission are checked
    now, in `uow`; rows are read later, `BATCH` at a time, in a read-only unit of work of their own."""
    now = now or utcnow()
    queries.finding_select(uow, actor, filters, now)
    zone = uow.calendar.zone

    def rows() -> Iterator[list]:
        with uow.store.uow(write=False) as reader:
            session = reader.session
            query = queries.finding_select(reader, actor, filters, now).execution_options(yield_per=BATCH)
            batch: list[Finding] = []
            for finding in session.scalars(query):
                batch.append(finding)
                if len(batch) == BATCH:
                    yield from _rows(reader, batch, zone)
                    batch = []
            yield from _rows(reader, batch, zone)

    return rows()


def _rows(uow: UnitOfWork, batch: list[Finding], zone) -> Iterator[list]:
    if not batch:
        return
    session, directory = uow.session, uow.store.directory
    replies, _ = replies_and_after_photos(session, [f.id for f in batch])
    for f in batch:
        state = uow.registry.get(session, f.workflow_name, f.workflow_version).states[f.state]

        def local(at):
            return at.astimezone(zone).replace(tzinfo=None) if at else None

        on_time = "" if f.closed_on_time is None else ("是" if f.closed_on_time else "否")
        yield [f.id, f.title, f.description, f.category, SEVERITY_ZH.get(f.severity, f.severity), f.location,
               directory.unit(session, f.unit_id).name, SOURCE_ZH.get(f.source, f.source), f.inspection_round or "",
               state.label.zh if state.label else f.state, local(f.created_at), local(f.due_at),
               local(f.closed_at), on_time, replies.get(f.id, ""), f.failed_verifications, f.reopenings,
               f.overdue_count, f.repeat_count, Link(f.id)]
