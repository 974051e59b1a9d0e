"""Excel answers: a workbook written row by row in constant memory to a temporary file, then streamed back."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import date, datetime

import xlsxwriter
from flask import Response

from engine.ledger import Link

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 256 * 1024
FORMULA_STARTS = ("=", "+", "-", "@")
XLSX_NOTE = ("format=xlsx: the same rows as an Excel workbook, Chinese headers, campus local times, a frozen "
             "header row and an autofilter")
XLSX_RESPONSE = {"schema": {"type": "string", "format": "binary"}, "content_type": XLSX, "success": True,
                 "description": XLSX_NOTE}


def xlsx_response(filename: str, sheet: str, columns: Iterable[tuple], rows: Iterable[list], *,
                  link: Callable[[int], str] | None = None) -> Response:
    """A sheet with a bold frozen header row, an autofilter and set column widths; a column is (header, width)
    or (header, width, number format) such as "0.0%". `link(id)` is the URL of a Link cell (a HYPERLINK
    formula: Excel allows only 65,530 stored hyperlinks per sheet)."""
    columns = list(columns)
    fd, path = tempfile.mkstemp(prefix="xuncha-", suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
        ws = book.add_worksheet(sheet)
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        url = book.add_format({"font_color": "blue", "underline": 1})
        numbers = [book.add_format({"num_format": column[2]}) if len(column) > 2 else None for column in columns]
        for index, column in enumerate(columns):
            ws.set_column(index, index, column[1])
        ws.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            ws.write_string(0, index, column[0], head)
        last = 0
        for last, values in enumerate(rows, 1):
            for col, value in enumerate(values):
                _write(ws, last, col, value, when, day, url, link, numbers[col])
        ws.autofilter(0, 0, max(last, 1), len(columns) - 1)
        book.close()
    except BaseException:
        os.unlink(path)
        raise
    return Response(_stream(path), content_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Content-Length": str(os.path.getsize(path))})


def _write(ws, row, col, value, when, day, url, link, number=None) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Link):
        target = link(value.finding_id) if link else None
        if target:
            ws.write_formula(row, col, f'=HYPERLINK("{target}","{value.text}")', url, value.text)
        return
    if isinstance(value, datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), when)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), day)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否")
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, number)
    else:
        ws.write_string(row, col, str(value))  # written as text: a leading "=" never becomes a formula


def _stream(path: str):
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
