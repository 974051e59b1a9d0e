"""The Word rendering of a briefing's content, over the office's template (see engine/briefings/template.py)."""
from __future__ import annotations

import io
import os
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Mm

from engine.briefings.template import TEMPLATE

NUMERALS = "一二三四五六七八九十"
TEXT_WIDTH_MM = 156  # A4 less the 28 mm and 26 mm side margins
PHOTO_WIDTH_MM, PHOTO_HEIGHT_MM = 70, 55
PLACEHOLDERS = ("{部门}", "{期号}", "{日期}", "{更正}")


def template_path() -> Path:
    """The office's own template when one is installed (XUNCHA_BRIEFING_TEMPLATE), else the shipped one."""
    custom = os.environ.get("XUNCHA_BRIEFING_TEMPLATE")
    return Path(custom) if custom else TEMPLATE


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def render_docx(content: dict, photo=lambda _sha: None) -> bytes:
    """The .docx bytes of `content` (a BriefingContent as a dict); `photo(sha256)` finds a photo's file."""
    doc = Document(str(template_path()))
    _masthead(doc, content["masthead"])
    w = _Writer(doc, photo)
    w.body(content)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _masthead(doc, masthead: dict) -> None:
    values = {"{部门}": masthead["department"], "{期号}": masthead["number_text"] or "（草稿）",
              "{日期}": masthead["date_text"] or "", "{更正}": f"（更正{masthead['corrects']}）"
              if masthead.get("corrects") else ""}
    for paragraph in list(doc.paragraphs):
        text = paragraph.text
        if not any(p in text for p in PLACEHOLDERS):
            continue
        for key, value in values.items():
            text = text.replace(key, value)
        if not text.strip():  # a line only for a correction, say: drop it
            paragraph._p.getparent().remove(paragraph._p)
            continue
        runs = paragraph.runs
        runs[0].text = text  # placeholders edited in Word may be split across runs: keep the first run's look
        for run in runs[1:]:
            run._r.getparent().remove(run._r)


class _Writer:
    def __init__(self, doc, photo):
        self.doc, self.photo, self.level = doc, photo, 0
        self.shape_id = 100_000  # above any id the template holds
        self.images: dict[str, tuple] = {}
        self.image_no = 0
        # python-docx resolves a style name by scanning every style (and its latent ones) on each use; a
        # briefing sets thousands of paragraph styles, so they are resolved once here.
        self.style_ids = {style.name: style.style_id for style in doc.styles}

    def p(self, text: str, style: str = "简报正文"):
        return self.styled(self.doc.add_paragraph(text), style)

    def styled(self, paragraph, style: str):
        paragraph._p.get_or_add_pPr().style = self.style_ids[style]
        return paragraph

    def heading(self, text: str):
        self.level += 1
        self.sub = 0
        return self.p(f"{NUMERALS[self.level - 1]}、{text}", "简报一级标题")

    def subheading(self, text: str):
        self.sub += 1
        return self.p(f"（{NUMERALS[self.sub - 1] if self.sub <= 10 else self.sub}）{text}", "简报二级标题")

    def body(self, c: dict) -> None:
        m, s = c["masthead"], c["summary"]
        self.p("巡查情况通报", "简报标题")
        if m.get("corrects"):
            self.p(f"本期更正{m['corrects']}，原期内容以本期为准。")
        self.p(_overview(m, s))
        self.heading("总体情况")
        self._unit_table(s)
        for label, key in (("按类别", "categories"), ("按严重程度", "severities"), ("按来源", "sources")):
            if s[key]:
                self.p(f"{label}：" + "，".join(f"{x['name']}{x['count']}条" for x in s[key]) + "。")
        self.heading("各单位问题及整改情况")
        if not c["centres"]:
            self.p("本期未发现问题。")
        for centre in c["centres"]:
            self.subheading(f"{centre['name']}（{len(centre['items'])}条）")
            for index, item in enumerate(centre["items"], 1):
                self._item(index, item)
        self.heading("屡查屡犯、屡改屡犯、查而不改问题")
        for h in c["highlights"]:
            self.subheading(f"{h['label']}（{len(h['items'])}条）")
            if not h["items"]:
                self.p("本期无。")
            for x in h["items"]:
                self.p(f"{x['title']}（{x['location']}，{x['unit']}，{x['count']}次）。")
        self.heading("追责问责与正面典型")
        for label, rows in (("追责问责", c["sanctions"]), ("正面典型", c["commendations"])):
            self.subheading(f"{label}（{len(rows)}项）")
            if not rows:
                self.p("本期无。")
            for r in rows:
                points = f"，{'扣' if label == '追责问责' else '加'}{r['points']:g}分" if r["points"] else ""
                self.p(f"{r['unit']}：{r['kind']}{points}。{r['text']}（{r['at'][:10]}）")
        if c.get("coverage"):
            self._coverage(c["coverage"])
        if c.get("anchor"):
            a = c["anchor"]
            self.p(f"审计锚点：截至{a.get('at', '')}，审计日志共{a.get('rows', '')}行"
                   f"{'，' + str(a['chains']) + '条链' if a.get('chains') is not None else ''}，"
                   f"摘要 {a.get('digest', '')}。", "简报附注")

    def _unit_table(self, s: dict) -> None:
        headers = ["单位", "问题数", "已结案", "结案率", "按期结案率", "返工率", "超期未改"]
        rows = [[u["name"], u["received"], u["closed"], percent(u["closure_rate"]), percent(u["on_time_rate"]),
                 percent(u["rework_rate"]), u["open_overdue"]] for u in s["units"] + [s["total"]]]
        self.table(headers, rows, [40, 17, 17, 20, 24, 18, 20])

    def _item(self, index: int, item: dict) -> None:
        self.p(f"{index}. {item['title']}", "简报问题标题")
        facts = [f"地点：{item['location']}", f"类别：{item['category']}", f"严重程度：{item['severity']}",
                 f"责任单位：{item['unit']}", f"发现时间：{item['reported_at']}", f"状态：{item['state_label']}"]
        if item["deadline"]:
            facts.append(f"整改期限：{item['deadline']}")
        self.p("；".join(facts) + "。")
        if item["reply"]:
            self.p(f"整改回复：{item['reply']}")
        pictures = [(caption, self.photo(ph["sha256"])) for caption, ph in (("整改前", item["before"]),
                                                                            ("整改后", item["after"])) if ph]
        pictures = [(caption, path) for caption, path in pictures if path]
        if pictures:
            self._photos(pictures)

    def _photos(self, pictures) -> None:
        widths = [TEXT_WIDTH_MM // 2] * 2
        table = self._grid(1, 2, widths, borders=False)
        for cell, (caption, path) in zip(table.rows[0].cells, pictures, strict=False):
            para = self.styled(cell.paragraphs[0], "简报图注")
            self._picture(para.add_run(), path)
            self.styled(cell.add_paragraph(caption), "简报图注")

    def _picture(self, run, path) -> None:
        # python-docx's add_picture numbers each shape by searching the whole document for the highest id,
        # which makes a briefing of 1,500 photos quadratic; the writer numbers its shapes itself.
        rel_id, image = self._image(path)
        cx, cy = image.scaled_dimensions(Mm(PHOTO_WIDTH_MM), None)
        if cy > Mm(PHOTO_HEIGHT_MM):
            cx, cy = int(cx * Mm(PHOTO_HEIGHT_MM) / cy), Mm(PHOTO_HEIGHT_MM)
        self.shape_id += 1
        run._r.add_drawing(CT_Inline.new_pic_inline(self.shape_id, rel_id, image.filename, cx, cy))

    def _image(self, path):
        # Likewise its image parts are named by scanning every earlier one; here they are named by a counter
        # and shared by content (the same photo twice is stored once).
        image = Image.from_file(str(path))
        known = self.images.get(image.sha1)
        if known is None:
            self.image_no += 1
            part = ImagePart.from_image(image, PackURI(f"/word/media/briefing{self.image_no}.{image.ext}"))
            rel_id = f"rIdBriefing{self.image_no}"
            self.doc.part.rels.add_relationship(RT.IMAGE, part, rel_id)
            known = self.images[image.sha1] = (rel_id, image)
        return known

    def _coverage(self, cov: dict) -> None:
        self.heading(cov.get("title") or "巡查覆盖情况")
        for note in cov.get("notes") or ():
            self.p(note)
        tables = list(cov.get("tables") or ())
        if cov.get("headers"):  # one table given flat
            tables.insert(0, {"headers": cov["headers"], "rows": cov.get("rows") or []})
        for t in tables:
            if t.get("title"):
                self.subheading(t["title"])
            n = len(t["headers"])
            self.table(t["headers"], t.get("rows") or [], t.get("widths_mm") or [TEXT_WIDTH_MM / n] * n)

    def table(self, headers: list, rows: list[list], widths_mm: list[float]) -> None:
        table = self._grid(1 + len(rows), len(headers), widths_mm)
        for r, values in enumerate([headers, *rows]):
            for cell, value in zip(table.rows[r].cells, values, strict=False):
                para = self.styled(cell.paragraphs[0], "简报表头" if r == 0 else "简报表格")
                para.add_run("" if value is None else str(value))

    def _grid(self, nrows: int, ncols: int, widths_mm: list[float], borders: bool = True):
        """A table of fixed layout whose widths are on the grid columns as well as every cell: LibreOffice
        lays out by the grid, Word by the cells."""
        table = self.doc.add_table(rows=nrows, cols=ncols)
        if borders:
            table._tbl.tblPr.style = self.style_ids["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths_mm, strict=False):
            col.w = Mm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths_mm, strict=False):
                cell.width = Mm(width)
        # autofit off is a fixed layout (w:tblLayout); the total width goes on the existing w:tblW
        width = table._tbl.tblPr.find(qn("w:tblW"))
        if width is not None:
            width.set(qn("w:w"), str(int(sum(widths_mm) * 56.6929)))  # twentieths of a point
            width.set(qn("w:type"), "dxa")
        return table


def _overview(m: dict, s: dict) -> str:
    t = s["total"]
    text = (f"{m['period_text']}，共发现问题{t['received']}条，涉及{len(s['units'])}个单位。"
            f"截至目前，已结案{t['closed']}条，结案率{percent(t['closure_rate'])}，按期结案率"
            f"{percent(t['on_time_rate'])}，返工率{percent(t['rework_rate'])}；超期未整改{t['open_overdue']}条，"
            f"查而不改{t['not_fixed']}条。")
    previous, change = s.get("previous"), s.get("change")
    if previous and change:
        more = change["received"]
        text += (f"与上期（{previous['number_text']}）相比，问题数{'增加' if more >= 0 else '减少'}{abs(more)}条，"
                 f"结案率{'上升' if change['closure_rate'] >= 0 else '下降'}{abs(change['closure_rate']):g}个百分点。")
    return text
