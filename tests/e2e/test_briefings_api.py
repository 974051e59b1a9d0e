"""Briefings, the Excel ledger and imports over HTTP."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
from http_helpers import fire, report

from engine import ledger
from engine.ledger import COLUMNS


def test_draft_publish_and_read_a_briefing(as_):
    finding = report(as_("inspector"), title="一食堂地面湿滑")
    today = datetime.fromisoformat(finding["created_at"]).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert as_("food").post("/briefings", json={"from": today, "to": today}).status_code == 403
    made = as_("inspector").post("/briefings", json={"from": today, "to": today})
    assert made.status_code == 201 and made.get_json()["number"] is None
    bid = made.get_json()["id"]
    detail = as_("admin").get(f"/briefings/{bid}").get_json()
    assert detail["content"]["finding_ids"] == [finding["id"]]
    done = as_("admin").post(f"/briefings/{bid}/publish")
    assert done.status_code == 200, done.get_json()
    meta = done.get_json()
    assert meta["number"] == 1 and meta["number_text"].endswith("年第1期")
    again = as_("admin").post(f"/briefings/{bid}/publish")
    assert again.status_code == 409 and "never changes" in again.get_json()["detail"]
    word = as_("food").get(f"/briefings/{bid}.docx")  # centres read published briefings
    assert word.status_code == 200 and hashlib.sha256(word.data).hexdigest() == meta["files"]["docx"]
    page = as_("leader").get(f"/briefings/{bid}.html")
    assert page.status_code == 200 and "一食堂地面湿滑" in page.get_data(as_text=True)
    fix = as_("admin").post("/briefings", json={"corrects": bid})
    assert fix.status_code == 201 and fix.get_json()["corrects"] == bid
    assert [b["id"] for b in as_("food").get("/briefings").get_json()] == [bid]  # drafts stay with drafters


def test_the_ledger_as_excel(as_):
    ids = [report(as_("inspector"), unit=unit)["id"] for unit in ("FOOD", "FOOD", "PROP")]
    fire(as_("inspector"), ids[0], "assign")
    plain = as_("admin").get("/findings?unit=FOOD")
    assert plain.status_code == 200 and len(plain.get_json()["items"]) == 2  # the JSON answer is unchanged
    answer = as_("admin").get("/findings?unit=FOOD&format=xlsx")
    assert answer.status_code == 200 and answer.content_type.startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [title for title, _ in COLUMNS]
    assert sorted(r[0] for r in rows[1:]) == sorted(ids[:2])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert {r[9] for r in rows[1:]} == {"已上报", "已交办"} and rows[1][6] == "饮食服务中心"
    link = sheet.cell(row=2, column=len(COLUMNS)).value
    assert link.startswith('=HYPERLINK("http://localhost/findings/')


def test_the_ledger_reads_past_one_batch(as_, monkeypatch):
    monkeypatch.setattr(ledger, "BATCH", 2)
    ids = [report(as_("inspector"))["id"] for _ in range(5)]
    sheet = openpyxl.load_workbook(io.BytesIO(as_("admin").get("/findings?format=xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ids


def test_export_then_import_dry_run_reports_no_errors(as_):
    for unit in ("FOOD", "PROP", "PROP-DORM"):
        report(as_("inspector"), unit=unit)
    ledger = as_("admin").get("/findings?format=xlsx").data
    checked = as_("admin").post("/imports", data={"dry_run": "true", "file": (io.BytesIO(ledger), "台账.xlsx")},
                                content_type="multipart/form-data")
    assert checked.status_code == 200, checked.get_json()
    body = checked.get_json()
    assert (body["rows"], body["valid"], body["errors"], body["imported"]) == (3, 3, [], 0)
    refused = as_("inspector").post("/imports", data={"file": (io.BytesIO(ledger), "台账.xlsx")},
                                    content_type="multipart/form-data")
    assert refused.status_code == 403


def test_a_bad_sheet_is_refused_naming_its_rows(as_):
    data = "问题描述,地点,责任单位,发现日期,状态\n灯坏了,图书馆,FOOD,昨天,整改中\n".encode()
    answer = as_("admin").post("/imports", data={"file": (io.BytesIO(data), "a.csv")},
                               content_type="multipart/form-data")
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == [{"row": 2, "column": "发现日期",
                                            "message": "无法识别的日期“昨天”，请写作 2025-03-01 或 2025-03-01 09:30"}]
