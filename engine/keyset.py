"""Keyset cursors for the findings list under any sort: the last row's sort key and id, opaque to callers.

An offset page reads and throws away every row before it, so page 5,000 costs 5,000 pages; a keyset page
starts where the last one ended (`key > last key, or equal and id > last id`) and reads one page through the
index of its sort key, at any depth. The cursor names its sort so it cannot be replayed under another one.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

import sqlalchemy as sa

from engine.errors import InvalidFields

# Sort keys that are never NULL: a NULL would fall outside both `<` and `=` and end the walk early
# (and PostgreSQL and SQLite put NULLs at opposite ends), so due_at pages by number.
KEYED = ("id", "created_at", "updated_at", "state", "severity")
TIMES = ("created_at", "updated_at")


def encode(sort: str, value, row_id: int) -> str:
    value = value.isoformat() if isinstance(value, datetime) else value
    text = json.dumps([sort, value, row_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(sort: str, cursor: str) -> tuple[object, int]:
    """(sort key value, id) of a cursor made by `encode` for the same sort; anything else is the caller's mistake."""
    try:
        given, value, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if given != sort or not isinstance(row_id, int):
            raise ValueError(given)
        key = sort.lstrip("-")
        if key in TIMES:
            value = datetime.fromisoformat(value)
        elif key in ("id", "severity") and not isinstance(value, int):
            raise ValueError(value)
        elif key == "state" and not isinstance(value, str):
            raise ValueError(value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidFields({"after": f"not a cursor of this list sorted by {sort} "
                                      f"(take it from `after` of the previous page, with the same sort)"}) from exc
    return value, row_id


def after_condition(column, id_column, descending: bool, value, row_id: int):
    """Rows after (value, row_id) in the order (column, id), both ascending or both descending."""
    if column is id_column:
        return id_column < row_id if descending else id_column > row_id
    # A row-value comparison, which both databases read as one range of an index on (column, id).
    key, last = sa.tuple_(column, id_column), sa.tuple_(sa.literal(value, column.type), sa.literal(row_id))
    return key < last if descending else key > last
