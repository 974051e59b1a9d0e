"""CSV downloads of what a page lists, safe to open in a spreadsheet (UTF-8 with BOM, no formulas)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_response(header: list[str], rows: Iterable[list], filename: str) -> Response:
    """Stream the rows (the request's unit of work stays open until the last one is written)."""
    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel recognises UTF-8 and shows the Chinese text
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(lines()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
