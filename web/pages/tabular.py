"""CSV downloads of what a page lists, safe to open in a spreadsheet (UTF-8 with BOM, no formulas)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_response(header: list[str], rows: Iterable[list], filename: str) -> Response:
    """The whole file, written while the request's unit of work is open (exports are capped by the caller)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel recognises UTF-8 and shows the Chinese text
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(buffer.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
