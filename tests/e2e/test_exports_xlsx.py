"""Excel exports beside JSON and CSV: scorecards, the audit log, sanctions, coverage and its gaps."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import openpyxl
import pytest
from http_helpers import fire, report
from places_helpers import build_places

from engine import sheets
from engine.db import utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def today(campus):
    return datetime.now(campus.store.calendar.zone).date()


def period(campus) -> str:
    day = today(campus)
    return f"from={day - timedelta(days=1)}&to={day + timedelta(days=1)}"


def workbook(response, columns) -> tuple[list[tuple], object]:
    """The rows under the header of the only sheet, after checking the header, frozen row and autofilter."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type == XLSX and ".xlsx" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [column[0] for column in columns]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["B"].width > 8  # widths are set, not Excel's default
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]], sheet


def escalated(as_, **fields) -> dict:
    finding = report(as_("inspector"), **fields)
    assert fire(as_("inspector"), finding["id"], "escalate", {"reason": "多次督促未整改"}).status_code == 200
    return finding


def sanction(as_, finding_ids, **fields):
    body = {"findings": finding_ids, "kind": "deduction", "points": 3, "decision": "通报批评并扣分", **fields}
    made = as_("leader").post("/sanctions", json=body)
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_the_ranking_and_one_units_scorecard_as_excel(as_, campus):
    escalated(as_), escalated(as_, unit="PROP-DORM")
    wanted = {c["unit"]: c for c in as_("leader").get(f"/scorecards?{period(campus)}").get_json()}
    rows, sheet = workbook(as_("leader").get(f"/scorecards?{period(campus)}&format=xlsx"), sheets.SCORECARD_COLUMNS)
    assert [r["单位代码"] for r in rows] == list(wanted)  # the same order: best first, unrated last
    food = next(r for r in rows if r["单位代码"] == "FOOD")
    assert (food["单位"], food["收到问题"], food["名次"]) == ("饮食服务中心", 1, wanted["FOOD"]["rank"])
    assert food["结案率"] == pytest.approx(wanted["FOOD"]["closure_rate"])
    assert food["综合得分"] == pytest.approx(wanted["FOOD"]["score"])
    assert food["起始日期"].date() == today(campus) - timedelta(days=1)  # campus days, the last one included
    assert food["截止日期"].date() == today(campus) + timedelta(days=1)
    assert sheet.cell(row=2, column=11).number_format == "0.0%"
    # subunits: the filter the JSON form takes applies to the workbook too
    wide, _ = workbook(as_("leader").get(f"/scorecards?{period(campus)}&subunits=true&format=xlsx"),
                       sheets.SCORECARD_COLUMNS)
    assert next(r for r in wide if r["单位代码"] == "PROP")["收到问题"] == 1
    assert next(r for r in rows if r["单位代码"] == "PROP")["收到问题"] == 0
    one, _ = workbook(as_("prop").get(f"/units/PROP/scorecard?{period(campus)}&format=xlsx"), sheets.SCORECARD_COLUMNS)
    assert [(r["单位代码"], r["收到问题"], r["名次"]) for r in one] == [("PROP", 1, None)]
    own, _ = workbook(as_("prop").get(f"/units/PROP/scorecard?{period(campus)}&subunits=false&format=xlsx"),
                      sheets.SCORECARD_COLUMNS)
    assert (own[0]["收到问题"], own[0]["参与排名"], own[0]["综合得分"]) == (0, "否", None)
    assert as_("food").get(f"/units/PROP/scorecard?{period(campus)}&format=xlsx").status_code == 404
    assert as_("student").get(f"/scorecards?{period(campus)}&format=xlsx").status_code == 403


def test_sanctions_as_excel_honour_the_filters(as_, campus):
    food = escalated(as_)
    dorm = escalated(as_, unit="PROP-DORM")
    made = sanction(as_, [food["id"]], decision="=责令整改，通报全校", amount=500)
    sanction(as_, [dorm["id"]], kind="criticism", points=1)
    rows, _ = workbook(as_("leader").get("/sanctions?format=xlsx"), sheets.SANCTION_COLUMNS)
    assert len(rows) == 2
    rows, _ = workbook(as_("leader").get("/sanctions?format=xlsx&unit=FOOD"), sheets.SANCTION_COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    assert (row["编号"], row["单位代码"], row["责任单位"], row["问责方式"]) == \
        (made["id"], "FOOD", "饮食服务中心", "扣分")
    assert (row["扣分"], row["金额（元）"], row["涉及问题编号"]) == (3, 500, str(food["id"]))
    assert row["决定内容"] == "=责令整改，通报全校"  # stored as text: it never runs as a formula
    decided = datetime.fromisoformat(made["decided_at"]).astimezone(campus.store.calendar.zone)
    assert abs(row["决定时间"] - decided.replace(tzinfo=None)) < timedelta(seconds=1)  # campus local time
    kinds, _ = workbook(as_("leader").get("/sanctions?format=xlsx&kind=criticism"), sheets.SANCTION_COLUMNS)
    assert [r["单位代码"] for r in kinds] == ["PROP-DORM"]
    tomorrow = today(campus) + timedelta(days=1)
    later, _ = workbook(as_("leader").get(f"/sanctions?format=xlsx&from={tomorrow}"), sheets.SANCTION_COLUMNS)
    assert later == []
    covering, _ = workbook(as_("leader").get(f"/sanctions?format=xlsx&finding={dorm['id']}"), sheets.SANCTION_COLUMNS)
    assert [r["涉及问题编号"] for r in covering] == [str(dorm["id"])]
    assert as_("food").get("/sanctions?format=xlsx").status_code == 200  # a centre: its own only
    assert {r["单位代码"] for r in workbook(as_("food").get("/sanctions?format=xlsx"), sheets.SANCTION_COLUMNS)[0]} \
        == {"FOOD"}


def test_the_audit_log_as_excel_with_its_filters(as_, campus):
    food = report(as_("inspector"), title="食堂=SUM(A1)", unit="FOOD")
    dorm = report(as_("inspector"), title="宿舍", unit="PROP-DORM")
    fire(as_("inspector"), food["id"], "assign", {"note": "请处理，谢谢"})
    fire(as_("food"), food["id"], "respond", {"plan": "更换地垫"})
    fire(as_("leader"), dorm["id"], "escalate", {"reason": "屡查屡犯"})
    log = as_("auditor").get("/audit?per_page=100").get_json()["items"]
    rows, _ = workbook(as_("auditor").get("/audit?format=xlsx"), sheets.AUDIT_COLUMNS)
    assert [r["日志编号"] for r in rows] == [e["id"] for e in log]
    assert [r["本行哈希"] for r in rows] == [e["hash"] for e in log]
    first = rows[0]
    written = datetime.fromisoformat(log[0]["at"]).astimezone(campus.store.calendar.zone).replace(tzinfo=None)
    assert abs(first["时间"] - written) < timedelta(seconds=1)  # campus local time, not UTC
    assert (first["单位代码"], first["事件"], first["操作人"]) == ("FOOD", "report", "inspector")
    one, _ = workbook(as_("auditor").get(f"/audit?format=xlsx&finding={food['id']}"), sheets.AUDIT_COLUMNS)
    assert [r["事件"] for r in one] == ["report", "assign", "respond"]
    assert json.loads(one[1]["内容"]) == {"note": "请处理，谢谢"}
    for query, events in (("event=escalate", ["escalate"]), ("actor=food", ["respond"]),
                          ("unit=PROP", ["report", "escalate"])):
        got, _ = workbook(as_("auditor").get(f"/audit?format=xlsx&{query}"), sheets.AUDIT_COLUMNS)
        assert [r["事件"] for r in got] == events, query
    tomorrow = today(campus) + timedelta(days=1)
    none, _ = workbook(as_("auditor").get(f"/audit?format=xlsx&since={tomorrow}"), sheets.AUDIT_COLUMNS)
    assert none == []
    assert as_("inspector").get("/audit?format=xlsx").status_code == 403


def test_the_audit_workbook_is_streamed_in_batches(as_, campus, monkeypatch):
    from engine import queries

    real = queries.export_audit
    monkeypatch.setattr(queries, "export_audit", lambda *a, **kw: real(*a, **{**kw, "batch": 2}))
    ids = [report(as_("inspector"))["id"] for _ in range(5)]
    rows, _ = workbook(as_("auditor").get("/audit?format=xlsx&event=report"), sheets.AUDIT_COLUMNS)
    assert [r["问题编号"] for r in rows] == ids


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def test_coverage_and_gaps_as_excel(places, as_):
    day = today(places) - timedelta(days=1)
    planned = as_("inspector").post("/rounds", json={"name": "食品安全专项巡查", "level": "department", "kind": "食堂"})
    rid = planned.get_json()["id"]
    as_("inspector").post(f"/rounds/{rid}/start")
    made = as_("inspector").post(f"/rounds/{rid}/checks", json={"place": "C1", "at": f"{day}T12:00:00"})
    assert made.status_code == 201, made.get_json()
    monday = day - timedelta(days=day.weekday())
    span = f"from={monday}&to={monday + timedelta(days=6)}"
    wanted = as_("leader").get(f"/coverage?{span}").get_json()
    rows, _ = workbook(as_("leader").get(f"/coverage?{span}&format=xlsx"), sheets.COVERAGE_COLUMNS)
    assert [(r["地点代码"], r["服务时段"]) for r in rows] == [(w["place"], PERIODS_ZH[w["period"]]) for w in wanted]
    lunch = next(r for r in rows if r["地点代码"] == "C1" and r["服务时段"] == "午餐")
    assert (lunch["地点"], lunch["类型"], lunch["总务部督查次数"], lunch["中心自查次数"]) == ("一食堂", "食堂", 1, 0)
    assert lunch["最近检查时间"] == datetime.fromisoformat(f"{day}T12:00:00")  # campus local time
    canteens, _ = workbook(as_("leader").get(f"/coverage?{span}&kind=canteen&format=xlsx"), sheets.COVERAGE_COLUMNS)
    assert {r["地点代码"] for r in canteens} == {"C1"}
    dorms, _ = workbook(as_("leader").get(f"/coverage?{span}&unit=PROP-DORM&format=xlsx"), sheets.COVERAGE_COLUMNS)
    assert {r["地点代码"] for r in dorms} == {w["place"] for w in wanted if w["unit"] == "PROP-DORM"} != set()
    centre, _ = workbook(as_("leader").get(f"/coverage?{span}&level=centre&format=xlsx"), sheets.COVERAGE_COLUMNS)
    assert all(r["中心自查次数"] == 0 for r in centre) and all(r["总务部督查次数"] in ("", None) for r in centre)
    gaps = as_("leader").get(f"/coverage/gaps?{span}").get_json()
    rows, _ = workbook(as_("leader").get(f"/coverage/gaps?{span}&format=xlsx"), sheets.GAP_COLUMNS)
    assert [(r["地点代码"], r["缺查"], r["应查"]) for r in rows] == \
        [(g["place"], g["missing"], g["required"]) for g in gaps]
    assert {r["原因"] for r in rows} <= {"未达要求", "长期未查"}
    assert ("C1", "晚餐") in {(r["地点代码"], r["服务时段"]) for r in rows}
    only, _ = workbook(as_("leader").get(f"/coverage/gaps?{span}&place=D9&format=xlsx"), sheets.GAP_COLUMNS)
    assert only and {r["地点代码"] for r in only} == {"D9"}
    assert as_("student").get(f"/coverage?{span}&format=xlsx").status_code == 403


PERIODS_ZH = {"breakfast": "早餐", "lunch": "午餐", "dinner": "晚餐", "late": "夜宵", "day": "白天", "night": "夜间",
              "daylight": "白天", "classes": "上课时段", "closed": "闭楼时段", "office_hours": "办公时间",
              "all_day": "全天"}


@pytest.mark.parametrize("url", ["/scorecards?{p}&format=pdf", "/units/FOOD/scorecard?{p}&format=xls",
                                 "/audit?format=xml", "/sanctions?format=XLSX", "/coverage?{p}&format=docx",
                                 "/coverage/gaps?{p}&format=ods"])
def test_an_unknown_format_is_refused_naming_the_allowed_ones(as_, campus, url):
    answer = as_("admin").get(url.format(p=period(campus)))
    assert answer.status_code == 422
    message = answer.get_json()["errors"]["format"]
    assert all(name in message for name in ("json", "csv", "xlsx"))


def test_times_are_utc_in_json_and_local_in_the_workbook(as_, campus):
    """Guards the conversion: 8 hours apart in Asia/Shanghai."""
    before = utcnow()
    finding = report(as_("inspector"))
    rows, _ = workbook(as_("auditor").get(f"/audit?format=xlsx&finding={finding['id']}"), sheets.AUDIT_COLUMNS)
    offset = rows[0]["时间"] - before.replace(tzinfo=None)
    assert timedelta(hours=7, minutes=59) < offset < timedelta(hours=8, minutes=1)
