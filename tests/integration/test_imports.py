"""Import of past findings: every bad row named, all or nothing, original dates and states, no double import."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from briefing_helpers import SH

from engine import audit, scorecard
from engine.errors import NotAllowed, RowsRejected
from engine.imports.mapping import load_mapping
from engine.imports.service import import_findings
from engine.models import AuditEntry, Finding

HEADERS = ["问题描述", "地点", "责任单位", "发现日期", "整改期限", "整改情况", "状态", "类别", "严重程度"]
BAD = {17: ("发现日期", "2025-13-45"), 230: ("责任单位", "不存在的中心"), 512: ("状态", "差不多好了"),
       777: ("问题描述", ""), 998: ("严重程度", "极其严重")}


def sheet(n: int = 1000, bad: dict | None = None, encoding: str = "utf-8-sig") -> bytes:
    """n ledger rows (spreadsheet rows 2..n+1); `bad` spoils one cell of some rows, keyed by row number."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for i in range(n):
        row = [f"旧问题{i}", f"一食堂{i % 7}号窗口", "饮食服务中心" if i % 2 else "PROP",
               f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", f"2025/{1 + i % 12}/{1 + i % 28}", "已整改",
               "已整改销号" if i % 3 else "整改中", "卫生", "一般"]
        if bad and i + 2 in bad:
            column, value = bad[i + 2]
            row[HEADERS.index(column)] = value
        writer.writerow(row)
    return out.getvalue().encode(encoding)


def run(campus, data: bytes, *, dry_run=False, name="台账.csv", who="admin", mapping=None):
    with campus.store.uow(write=not dry_run) as uow:
        report = import_findings(uow, campus.actor(who), data, name, load_mapping(mapping), dry_run=dry_run)
        uow.commit()
        return report


def count(campus) -> int:
    with campus.store.uow(write=False) as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(Finding))


def test_a_thousand_rows_with_five_bad_ones_change_nothing_and_name_the_five(campus):
    data = sheet(bad=BAD)
    dry = run(campus, data, dry_run=True)
    assert dry.rows == 1000 and dry.valid == 995
    assert {(e["row"], e["column"]) for e in dry.errors} == {(r, c) for r, (c, _) in BAD.items()}
    with pytest.raises(RowsRejected) as caught:
        run(campus, data)
    assert sorted(e["row"] for e in caught.value.rows) == sorted(BAD)
    assert "无法识别的日期“2025-13-45”" in next(e["message"] for e in caught.value.rows if e["row"] == 17)
    assert count(campus) == 0


def test_imported_findings_keep_dates_and_states_verify_and_count_for_their_month(campus):
    report = run(campus, sheet(30), name="2025台账.csv")
    assert (report.imported, report.errors) == (30, [])
    with campus.store.uow(write=False) as uow:
        first = uow.session.get(Finding, report.finding_ids[0])
        assert first.created_at == datetime(2025, 1, 1, tzinfo=SH) and first.state == "rectifying"
        assert first.due_at == datetime(2025, 1, 1, 23, 59, 59, 999999, tzinfo=SH)
        second = uow.session.get(Finding, report.finding_ids[1])
        assert second.state == "closed" and second.closed_on_time is True
        row = uow.session.scalars(sa.select(AuditEntry).where(AuditEntry.finding_id == first.id)).one()
        assert (row.event, row.from_state, row.to_state, row.actor) == ("import", None, "rectifying", "admin")
        assert row.payload["file_sha256"] == report.sha256 and row.payload["row"] == 2
        assert audit.verify(uow.session).ok
        card = scorecard.unit_scorecard(uow, campus.actor("leader"), "FOOD", date(2025, 2, 1), date(2025, 2, 28))
        assert card.tally.received == 3  # i = 1, 13, 25: FOOD, found in February 2025


def test_reimporting_the_same_file_imports_nothing_twice(campus):
    data = sheet(20)
    assert run(campus, data).imported == 20
    again = run(campus, data)
    assert (again.imported, again.already_imported) == (0, 20)
    assert count(campus) == 20


def test_gbk_csv_and_a_mapping_of_other_headers(campus):
    text = "问题,位置X,单位,日期,状态\n楼道灯不亮,学生公寓3号楼,FOOD,2025年3月5日,已完成\n"
    mapping = "columns: {location: 位置X, unit: 单位, reported: 日期}\n"
    report = run(campus, text.encode("gbk"), mapping=mapping)
    assert report.imported == 1 and report.errors == []


def test_only_administrators_import(campus):
    with pytest.raises(NotAllowed):
        run(campus, sheet(1), who="inspector")
