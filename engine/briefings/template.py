"""Builds templates/briefing.docx, the Word template offices restyle: `python -m engine.briefings.template`.

Everything the office may change without code lives in the template: page size and margins, the footer with
its page number, the masthead paragraphs (placeholders {部门} {期号} {日期} {更正} are filled in), and the
styles the renderer uses by name (简报报头, 简报正文, 简报标题, 简报一级标题, ...), with their Chinese fonts."""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

TEMPLATE = Path(__file__).with_name("templates") / "briefing.docx"
RED = RGBColor(0xE0, 0x00, 0x00)
FANGSONG, HEITI, KAITI, XIAOBIAOSONG, SONGTI = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
# name: (East Asian font, size in pt, bold, red, alignment, first-line indent in pt, exact line spacing in pt)
STYLES = {
    "简报正文": (FANGSONG, 16, False, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 32, 28),
    "简报报头": (XIAOBIAOSONG, 42, False, True, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "简报期号": (FANGSONG, 16, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 28),
    "简报发文行": (FANGSONG, 16, False, False, WD_ALIGN_PARAGRAPH.LEFT, 0, 28),
    "简报标题": (XIAOBIAOSONG, 22, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 36),
    "简报一级标题": (HEITI, 16, False, False, WD_ALIGN_PARAGRAPH.LEFT, 32, 28),
    "简报二级标题": (KAITI, 16, False, False, WD_ALIGN_PARAGRAPH.LEFT, 32, 28),
    "简报问题标题": (FANGSONG, 16, True, False, WD_ALIGN_PARAGRAPH.LEFT, 32, 28),
    "简报表格": (FANGSONG, 10.5, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "简报表头": (HEITI, 10.5, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "简报图注": (FANGSONG, 10.5, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
    "简报附注": (FANGSONG, 12, False, False, WD_ALIGN_PARAGRAPH.LEFT, 0, None),
    "简报页码": (SONGTI, 14, False, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None),
}


def set_fonts(rpr_owner, east_asia: str, latin: str = "Times New Roman") -> None:
    """Name the font on every slot: Word and LibreOffice pick Chinese glyphs from w:eastAsia, not w:ascii."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin)):
        fonts.set(qn(slot), name)


def red_rule(paragraph, size_eighths: int = 18) -> None:
    """A red line under the paragraph (the rule below the masthead)."""
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", str(size_eighths)), ("w:space", "4"), ("w:color", "E00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.append(border)


def _style(doc, name, spec):
    font, size, bold, red, align, indent, spacing = spec
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = None
    style.quick_style = True
    style.font.size, style.font.bold = Pt(size), bold
    style.font.name = "Times New Roman"
    if red:
        style.font.color.rgb = RED
    set_fonts(style.element, font)
    fmt = style.paragraph_format
    fmt.alignment, fmt.space_before, fmt.space_after = align, Pt(0), Pt(0)
    fmt.first_line_indent = Pt(indent) if indent else None
    if spacing:
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(spacing)
    return style


def build(path: Path = TEMPLATE) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(16)
    set_fonts(normal.element, FANGSONG)
    lang = OxmlElement("w:lang")  # Chinese glyph forms from the CJK fonts (Noto holds SC, TC, JP and KR)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    for name, spec in STYLES.items():
        _style(doc, name, spec)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    footer = section.footer.paragraphs[0]
    footer.style = doc.styles["简报页码"]
    footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    footer.add_run(" —")
    body = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    body.style = doc.styles["简报报头"]
    body.text = "巡查简报"
    doc.add_paragraph("{期号}", style="简报期号")
    doc.add_paragraph("{更正}", style="简报期号")
    line = doc.add_paragraph("{部门}编\t{日期}", style="简报发文行")
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    red_rule(line)
    table_style = doc.styles["Table Grid"]
    table_style.font.size = Pt(10.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


if __name__ == "__main__":
    print(build())
