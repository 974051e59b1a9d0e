"""Reading and writing place lists as CSV (UTF-8, with or without BOM, or GBK as Excel saves it) and Excel."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from engine.errors import InvalidInput

COLUMNS = ("code", "name_zh", "name_en", "kind", "parent", "unit", "active")
HEADERS_ZH = {"code": "编码", "name_zh": "名称", "name_en": "英文名称", "kind": "类型", "parent": "上级编码",
              "unit": "责任单位", "active": "启用"}
ALIASES = {alias: column for column, names in {
    "code": ("code", "编码", "场所编码"), "name_zh": ("name_zh", "name", "名称", "中文名称", "场所名称"),
    "name_en": ("name_en", "英文名称", "英文名"), "kind": ("kind", "类型", "场所类型"),
    "parent": ("parent", "上级编码", "上级", "上级场所"), "unit": ("unit", "责任单位", "责任单位编码"),
    "active": ("active", "启用", "是否启用", "状态")}.items() for alias in names}
FORMULA_STARTS = ("=", "+", "-", "@")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def read_rows(name: str, data: bytes) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """({column: header as written}, [(row number, {column: text})]) from a CSV or Excel file's bytes.

    Row numbers are those a spreadsheet shows (the header is row 1); blank rows are skipped, unknown columns
    refused so a misspelt header does not silently drop data."""
    table = _excel(data) if name.lower().endswith(EXCEL_SUFFIXES) else _csv(data)
    if not table:
        raise InvalidInput("文件为空：第1行应为表头（编码、名称、类型、上级编码、责任单位……）")
    header = [_text(h) for h in table[0]]
    columns: dict[str, str] = {}
    positions: list[tuple[int, str]] = []
    for index, title in enumerate(header):
        if not title:
            continue
        column = ALIASES.get(title) or ALIASES.get(title.lower())
        if column is None:
            raise InvalidInput(f"第1行第{index + 1}列：无法识别的表头“{title}”；可用：{'、'.join(HEADERS_ZH.values())}"
                               f"（或 {', '.join(COLUMNS)}）")
        if column in columns:
            raise InvalidInput(f"第1行：表头“{title}”与“{columns[column]}”重复")
        columns[column] = title
        positions.append((index, column))
    missing = [HEADERS_ZH[c] for c in ("code", "name_zh", "kind") if c not in columns]
    if missing:
        raise InvalidInput(f"第1行：缺少必需的列：{'、'.join(missing)}")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {column: _text(cells[i]) if i < len(cells) else "" for i, column in positions}
        if any(values.values()):
            rows.append((number, values))
    return columns, rows


def _csv(data: bytes) -> list[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # a superset of GBK, which Excel in Chinese saves CSV as
        except UnicodeDecodeError:
            raise InvalidInput("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV") from None
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def _excel(data: bytes) -> list[list]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise InvalidInput(f"无法读取 Excel 文件：{exc}") from None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores a code typed as 1001 as the number 1001.0
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value).strip()
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text  # as _safe wrote it


def write_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a BOM, so Excel in Chinese opens it without mangling the names."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([HEADERS_ZH[c] for c in COLUMNS])
    for row in rows:
        writer.writerow([_safe(row[c]) for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[dict]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("场所")
    sheet.write_row(0, 0, [HEADERS_ZH[c] for c in COLUMNS])
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, [row[c] or "" for c in COLUMNS])
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 30)
    book.close()
    return out.getvalue()


def _safe(value) -> str:
    # A cell starting with = + - @ would run as a formula when the file is opened in a spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
