"""Briefings for inspection rounds (by id) and their coverage section, read back from the Word file."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from places_helpers import at, build_places

from engine import rounds, services
from engine.briefings import service
from engine.briefings.build import Scope
from engine.briefings.docx import render_docx
from engine.briefings.html import render_html
from engine.errors import InvalidFields
from web.cli import main

WEEK = Scope(date(2026, 3, 2), date(2026, 3, 8))  # Monday to Sunday


@pytest.fixture
def places(campus):
    build_places(campus)
    return campus


def plan(campus, name: str, **extra) -> int:
    with campus.store.uow() as uow:
        row = rounds.plan_round(uow, campus.actor("inspector"), rounds.RoundInput(name=name, level="department",
                                                                                    **extra),
                                now=at("2026-03-02", "08:00"))
        rounds.move_round(uow, campus.actor("inspector"), row.id, "start", now=at("2026-03-02", "08:00"))
        uow.commit()
        return row.id


def check(campus, round_id: int, place: str, when, findings=()) -> None:
    with campus.store.uow() as uow:
        rounds.record_check(uow, campus.actor("inspector"), round_id,
                            rounds.CheckInput(place, when, findings=tuple(findings)), now=at("2026-03-31", "12:00"))
        uow.commit()


def report(campus, title: str, when, **extra) -> int:
    with campus.store.uow() as uow:
        f = services.report_finding(uow, campus.actor("inspector"), services.Report(
            title=title, category="卫生", location=extra.pop("location", ""), unit=extra.pop("unit", None),
            **extra), now=when)
        uow.commit()
        return f.id


def content(campus, scope: Scope) -> tuple[int, dict]:
    with campus.store.uow() as uow:
        row = service.draft(uow, campus.actor("admin"), scope, now=at("2026-03-09", "09:00"))
        uow.commit()
        bid = row.id
    with campus.store.uow(write=False) as uow:
        return bid, service.content(uow, campus.actor("admin"), bid, now=at("2026-03-09", "09:00"))


@pytest.fixture
def two_rounds(places):
    """A canteen round that found one problem, a dormitory round that found another, and a finding of no round
    that carries the canteen round's name as its legacy text (it must not count as the round's)."""
    canteen = plan(places, "食堂专项巡查", places=("C1",))
    dorm = plan(places, "公寓夜查", places=("D9",))
    in_canteen = report(places, "留样不规范", at("2026-03-03", "12:10"), place="C1-1F", round=canteen)
    in_dorm = report(places, "走廊堆放杂物", at("2026-03-04", "23:00"), place="D9-3F", round=dorm)
    loose = report(places, "手写台账的问题", at("2026-03-05", "10:00"), unit="FOOD", location="一食堂",
                   inspection_round="食堂专项巡查")
    check(places, canteen, "C1", at("2026-03-03", "12:00"))
    check(places, canteen, "C1-1F", at("2026-03-03", "12:10"), findings=(in_canteen,))
    check(places, canteen, "C1", at("2026-03-03", "17:30"))
    check(places, dorm, "D9", at("2026-03-04", "23:00"), findings=(in_dorm,))
    return {"canteen": canteen, "dorm": dorm, "in_canteen": in_canteen, "in_dorm": in_dorm, "loose": loose}


def test_a_briefing_for_a_round_shows_the_findings_linked_to_it(two_rounds, places):
    _, c = content(places, replace(WEEK, rounds=(two_rounds["canteen"],)))
    assert c["finding_ids"] == [two_rounds["in_canteen"]]
    _, c = content(places, replace(WEEK, rounds=(str(two_rounds["dorm"]), two_rounds["canteen"])))
    assert c["finding_ids"] == sorted([two_rounds["in_canteen"], two_rounds["in_dorm"]])
    _, whole = content(places, WEEK)
    assert set(whole["finding_ids"]) == {two_rounds["in_canteen"], two_rounds["in_dorm"], two_rounds["loose"]}


def test_an_unknown_round_id_is_refused_naming_it(two_rounds, places):
    for value, named in ((9999, "9999"), ("食堂专项巡查", "食堂专项巡查"), ("0", "'0'")):
        with places.store.uow() as uow, pytest.raises(InvalidFields) as caught:
            service.draft(uow, places.actor("admin"), replace(WEEK, rounds=(two_rounds["canteen"], value)))
        assert "no inspection round with id" in caught.value.fields["round"]
        assert named in caught.value.fields["round"]
    with places.store.uow(write=False) as uow:
        assert service.list_briefings(uow, places.actor("admin")) == []  # nothing was drafted


def test_without_any_round_the_legacy_round_names_still_match(campus):
    old = report(campus, "旧台账问题", at("2026-03-03", "09:00"), unit="FOOD", location="一食堂",
                 inspection_round="2026年春季开学检查")
    report(campus, "别的问题", at("2026-03-03", "09:00"), unit="FOOD", location="二食堂")
    bid, c = content(campus, replace(WEEK, rounds=("2026年春季开学检查",)))
    assert c["finding_ids"] == [old]
    assert c["coverage"] is None  # no places registered: no coverage section


def test_the_cli_drafts_for_round_ids_and_names_an_unknown_one(two_rounds, places, db_url, tmp_path):
    runner = CliRunner()
    env = {"XUNCHA_DATABASE_URL": db_url, "XUNCHA_INSTANCE": str(tmp_path / "instance")}
    done = runner.invoke(main, ["briefing", "draft", "--from", "2026-03-02", "--to", "2026-03-08",
                                "--round", str(two_rounds["dorm"])], env=env)
    assert done.exit_code == 0, done.output
    bid = int(done.output.split()[1])
    with places.store.uow(write=False) as uow:
        assert service.content(uow, places.actor("admin"), bid)["finding_ids"] == [two_rounds["in_dorm"]]
    bad = runner.invoke(main, ["briefing", "draft", "--from", "2026-03-02", "--to", "2026-03-08",
                               "--round", "424242"], env=env)
    assert bad.exit_code != 0 and "no inspection round with id 424242" in bad.output


def _docx(c: dict) -> docx.document.Document:
    return docx.Document(io.BytesIO(render_docx(c)))


def _section(document, heading: str) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    start = next(i for i, t in enumerate(texts) if t.endswith(heading))
    return texts[start:]


def test_the_coverage_section_counts_checks_and_targets_and_names_the_worst_gaps(two_rounds, places):
    _, c = content(places, WEEK)
    cov = c["coverage"]
    assert cov["title"] == "巡查覆盖情况"
    assert any("本期共检查4次，其中总务部督查4次、中心自查0次" in n for n in cov["notes"])
    by_kind, gaps = cov["tables"]
    rows = {r[0]: r for r in by_kind["rows"]}
    assert rows["食堂"][2] == 3 and rows["学生公寓"][2] == 1  # department checks by kind of place
    assert rows["食堂"][1] == 4  # the canteen's four service periods
    assert rows["食堂"][4] + rows["食堂"][5] <= rows["食堂"][1]
    assert gaps["headers"] == ["地点", "时段", "覆盖要求", "应查", "已查", "缺查"]
    assert 0 < len(gaps["rows"]) <= 10 and all(r[5] > 0 for r in gaps["rows"])
    weekly = {tuple(r[:2]) for r in gaps["rows"] if r[2] == "食堂每餐每周督查"}
    assert ("一食堂", "早餐") in weekly and ("一食堂", "晚餐") not in weekly  # dinner was checked, breakfast not

    document = _docx(c)
    section = _section(document, "巡查覆盖情况")
    assert section[0].endswith("、巡查覆盖情况") and section[0][0] in "一二三四五六七八九十"
    assert any(t.startswith("（一）按地点类型统计") for t in section)
    assert any(t.startswith("（二）覆盖薄弱环节") for t in section)
    tables = [t for t in document.tables if t.rows and t.rows[0].cells[0].text in ("地点类型", "地点")]
    assert [t.rows[0].cells[0].text for t in tables] == ["地点类型", "地点"]
    kinds = {row.cells[0].text: [c.text for c in row.cells] for row in tables[0].rows[1:]}
    assert kinds["食堂"][2] == "3" and kinds["学生公寓"][2] == "1"
    assert len(tables[1].rows) == 1 + len(gaps["rows"])
    for table, widths in zip(tables, (by_kind["widths_mm"], gaps["widths_mm"]), strict=True):
        grid = [round(col.w.mm) for col in table._tbl.tblGrid.gridCol_lst]
        assert grid == [round(w) for w in widths]  # widths on the columns, for LibreOffice
        assert [round(cell.width.mm) for cell in table.rows[1].cells] == grid  # and on the cells, for Word
    style = document.styles[tables[0].rows[1].cells[0].paragraphs[0].style.name]
    fonts = style.element.rPr.find(qn("w:rFonts"))
    assert fonts is not None and fonts.get(qn("w:eastAsia"))  # Chinese glyphs come from the East Asian slot

    page = render_html(c)
    assert "巡查覆盖情况" in page and "按地点类型统计" in page and "<th>缺查</th>" in page


def test_a_round_briefing_counts_only_the_rounds_checks(two_rounds, places):
    _, c = content(places, replace(WEEK, rounds=(two_rounds["dorm"],)))
    cov = c["coverage"]
    assert any("公寓夜查" in n and f"第{two_rounds['dorm']}号轮次" in n for n in cov["notes"])
    assert any("本期共检查1次" in n for n in cov["notes"])
    rows = {r[0]: r for r in cov["tables"][0]["rows"]}
    assert rows["食堂"][2] == 0 and rows["学生公寓"][2] == 1
    assert "巡查覆盖情况" in "".join(_section(_docx(c), "巡查覆盖情况")[:1])


def test_a_published_briefing_keeps_its_coverage_frozen(two_rounds, places):
    bid, c = content(places, WEEK)
    with places.store.uow() as uow:
        service.publish(uow, places.actor("admin"), bid, service.Renderers(docx=render_docx),
                        now=at("2026-03-09", "10:00"))
        uow.commit()
    check(places, two_rounds["canteen"], "C1", at("2026-03-04", "07:30"))  # breakfast checked after publication
    with places.store.uow(write=False) as uow:
        frozen = service.content(uow, places.actor("admin"), bid)
        stored = service.stored_file(uow, places.actor("admin"), bid, "docx").data
    assert frozen["coverage"] == c["coverage"]
    text = "\n".join(cell.text for t in docx.Document(io.BytesIO(stored)).tables for row in t.rows
                     for cell in row.cells)
    assert "食堂每餐每周督查" in text
