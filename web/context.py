"""Per-request state: the store, one unit of work per request, and the caller's If-Match."""
from __future__ import annotations

from flask import current_app, g, request

from engine.unit_of_work import Store, UnitOfWork

READ_METHODS = ("GET", "HEAD", "OPTIONS")
READ_ONLY_POSTS = ("workflows.lint",)  # POSTs that store nothing need no write lock (SQLite takes it at BEGIN)


def store() -> Store:
    return current_app.extensions["xuncha.store"]


def uow() -> UnitOfWork:
    """The request's unit of work, opened on first use; writing methods get a write transaction."""
    current = g.get("uow")
    if current is None:
        current = store().uow(write=request.method not in READ_METHODS and request.endpoint not in READ_ONLY_POSTS)
        current.__enter__()
        g.uow = current
    return current


def close_uow(_exc=None) -> None:
    """Teardown: whatever was not committed is rolled back."""
    current = g.pop("uow", None)
    if current is not None:
        current.__exit__(None, None, None)


def expected_version() -> int | None:
    """The version named by If-Match ("7", W/"7" or 7); one that is not a version can never match."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    g.if_match = header
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() and len(tag) < 10 else -1


def etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}
