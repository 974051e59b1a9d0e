"""Reading a sheet: .xlsx/.xls/.ods through calamine, .csv in UTF-8 (with or without BOM) or GBK."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from python_calamine import CalamineWorkbook

from engine.errors import InvalidInput

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number as the spreadsheet shows it, values)


def read_sheet(data: bytes, name: str) -> Sheet:
    """The first sheet: its header row and every non-empty row after it, numbered as the office sees them."""
    lower = name.lower()
    if lower.endswith(".csv"):
        table = list(csv.reader(io.StringIO(_decode(data))))
    elif lower.endswith(SPREADSHEETS):
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            table = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types for every malformed file
            raise InvalidInput(f"{name}: 无法读取表格文件（{exc}）") from None
    else:
        raise InvalidInput(f"{name}: 只能导入 .xlsx、.xls 或 .csv 文件")
    header_index = next((i for i, row in enumerate(table) if any(_blank(v) is False for v in row)), None)
    if header_index is None:
        raise InvalidInput(f"{name}: 文件是空的")
    headers = [str(v).strip() if v is not None else "" for v in table[header_index]]
    rows = [(i + 1, list(row)) for i, row in enumerate(table) if i > header_index
            and any(_blank(v) is False for v in row)]
    return Sheet(headers, rows)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 reads every GBK file
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("CSV 文件的编码无法识别：请另存为 UTF-8 或 GBK")
