"""Briefings: content from the data, numbering on publication, immutability, corrections, the PDF."""
from __future__ import annotations

import hashlib
import io
import subprocess
import threading
from dataclasses import dataclass
from datetime import date, datetime

import docx
import pytest
import sqlalchemy as sa
from briefing_helpers import SH, close, photo, report

from engine.briefings import pdf, service
from engine.briefings.build import Scope
from engine.briefings.docx import render_docx
from engine.errors import Conflict, InvalidFields, NotAllowed

MARCH = Scope(date(2026, 3, 1), date(2026, 3, 31))
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=SH)
PUBLISHED = datetime(2026, 4, 1, 10, 0, tzinfo=SH)
DOCX_ONLY = service.Renderers(docx=render_docx)


@pytest.fixture
def march(campus):
    """FOOD: one closed with a before and an after photo, one open; the dormitory section (under PROP): one;
    and an April finding that no March briefing may show."""
    closed = report(campus, "一食堂餐桌未及时清理", "FOOD", T0)
    before = photo(campus, closed, "inspector", 1)
    after = photo(campus, closed, "food", 2)
    close(campus, closed, "food", T0, photos=[after], note="已调整保洁排班")
    open_one = report(campus, "二食堂排烟罩油污", "FOOD", T0)
    dorm = report(campus, "学生公寓9号楼卫生间积水", "PROP-DORM", datetime(2026, 3, 20, 9, 0, tzinfo=SH))
    april = report(campus, "四月的问题", "FOOD", datetime(2026, 4, 2, 9, 0, tzinfo=SH))
    return {"closed": closed, "open": open_one, "dorm": dorm, "april": april, "before": before, "after": after}


def draft(campus, scope=MARCH, who="admin", **kw) -> int:
    with campus.store.uow() as uow:
        row = service.draft(uow, campus.actor(who), scope, **kw)
        uow.commit()
        return row.id


def publish(campus, briefing_id, renderers=DOCX_ONLY, now=PUBLISHED):
    with campus.store.uow() as uow:
        row = service.publish(uow, campus.actor("admin"), briefing_id, renderers, now=now)
        uow.commit()
        return row.year, row.number


@dataclass
class Stored:
    data: bytes
    sha256: str


def stored(campus, briefing_id, fmt="docx") -> Stored:
    with campus.store.uow(write=False) as uow:
        row = service.stored_file(uow, campus.actor("admin"), briefing_id, fmt)
        return Stored(row.data, row.sha256)


def test_the_word_file_shows_exactly_the_findings_of_the_period_each_under_its_centre(campus, march):
    bid = draft(campus)
    publish(campus, bid)
    document = docx.Document(io.BytesIO(stored(campus, bid).data))
    texts = [p.text for p in document.paragraphs]
    assert "2026年第1期" in texts and "巡查简报" in texts
    centres = [t for t in texts if t.startswith("（") and "条）" in t and "中心" in t]
    assert centres == ["（一）饮食服务中心（2条）", "（二）物业服务中心（1条）"]  # by unit code; the
    # dormitory section's finding is under its centre
    titles = [t for t in texts if t[:2] in ("1.", "2.")]
    assert titles == ["1. 一食堂餐桌未及时清理", "2. 二食堂排烟罩油污", "1. 学生公寓9号楼卫生间积水"]
    assert not any("四月的问题" in t for t in texts)
    assert "整改回复：已调整保洁排班" in texts
    assert len(document.inline_shapes) == 2  # before and after photos of the closed finding
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells][:3] == ["单位", "问题数", "已结案"]
    assert [c.text for c in table.rows[-1].cells][:4] == ["合计", "3", "1", "33.3%"]
    fonts = document.styles["简报正文"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    assert document.tables[0]._tbl.tblGrid.gridCol_lst[0].w > 0


def test_a_briefing_is_numbered_on_publication_the_next_of_its_year(campus, march):
    first, second, later = draft(campus), draft(campus), draft(campus)
    with campus.store.uow(write=False) as uow:
        assert service.get_briefing(uow, campus.actor("admin"), first).number is None
    assert publish(campus, second) == (2026, 1)  # the order of publication, not of drafting
    assert publish(campus, first) == (2026, 2)
    assert publish(campus, later, now=datetime(2027, 1, 5, 9, 0, tzinfo=SH)) == (2027, 1)


def test_a_published_briefing_never_changes(campus, march):
    bid = draft(campus)
    publish(campus, bid)
    file = stored(campus, bid)
    assert hashlib.sha256(file.data).hexdigest() == file.sha256
    report(campus, "发布后才报的问题", "FOOD", T0)  # falls in the period, after publication
    with pytest.raises(Conflict, match="already published"):
        publish(campus, bid)
    with campus.store.uow(write=False) as uow:
        content = service.content(uow, campus.actor("admin"), bid)
    assert march["closed"] in content["finding_ids"] and len(content["finding_ids"]) == 3
    assert stored(campus, bid).sha256 == file.sha256


def test_a_correction_names_the_briefing_it_corrects(campus, march):
    original = draft(campus)
    with pytest.raises(InvalidFields, match="corrects"):
        draft(campus, corrects=original)  # a draft is changed, not corrected
    publish(campus, original)
    fix = draft(campus, None, corrects=original)
    publish(campus, fix)
    with campus.store.uow(write=False) as uow:
        row = service.get_briefing(uow, campus.actor("leader"), fix)
        assert row.corrects_id == original and (row.period_start, row.period_end) == (MARCH.start, MARCH.end)
    texts = [p.text for p in docx.Document(io.BytesIO(stored(campus, fix).data)).paragraphs]
    assert "（更正2026年第1期）" in texts


def test_only_inspectors_and_administrators_draft(campus):
    with pytest.raises(NotAllowed):
        draft(campus, who="food")


def test_the_summary_compares_with_the_previous_briefing(campus, march):
    publish(campus, draft(campus))
    with campus.store.uow(write=False) as uow:
        content = service.content(uow, campus.actor("admin"), draft(campus, Scope(date(2026, 4, 1),
                                                                               date(2026, 4, 30))))
    assert content["summary"]["previous"]["number_text"] == "2026年第1期"
    assert content["summary"]["change"]["received"] == 1 - 3


def test_two_publications_at_once_take_different_numbers(campus, march):
    ids = [draft(campus) for _ in range(4)]
    numbers, failures = [], []

    def run(bid):
        try:
            numbers.append(publish(campus, bid)[1])
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(bid,)) for bid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and sorted(numbers) == [1, 2, 3, 4]


@pytest.mark.skipif(pdf.converter() is None, reason="LibreOffice (soffice) is not installed")
def test_the_pdf_is_stored_on_publication_and_its_pages_render(campus, march, tmp_path):
    bid = draft(campus)
    publish(campus, bid, service.Renderers(docx=render_docx, pdf=pdf.docx_to_pdf))
    file = stored(campus, bid, "pdf")
    assert file.data.startswith(b"%PDF-") and hashlib.sha256(file.data).hexdigest() == file.sha256
    (tmp_path / "b.pdf").write_bytes(file.data)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(tmp_path / "b.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "b.pdf")], capture_output=True, text=True).stdout
    assert "CJK" in fonts  # the Chinese text is set in the mapped Noto CJK fonts, not boxes


def test_the_number_is_unique_in_the_database(campus, march):
    publish(campus, draft(campus))
    other = draft(campus)
    with campus.store.uow() as uow, pytest.raises(sa.exc.IntegrityError):
        uow.session.execute(sa.text("UPDATE briefings SET year = 2026, number = 1 WHERE id = :i"), {"i": other})
        uow.session.flush()
