"""Per-request state: the store, one unit of work per request, and the caller's If-Match."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, g, request
from flask_smorest import abort

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


@contextmanager
def reading():
    """A read-only unit of work for what a request does before its use case (authentication).

    A writing request's own unit of work is opened only when its use case runs, after the body is read: on
    SQLite it holds the database's one write lock, which a slow client must not keep while it sends."""
    if request.method in READ_METHODS:
        yield uow()
        return
    with store().uow(write=False) as unit:
        yield unit


def close_uow(_exc=None) -> None:
    """Teardown: whatever was not committed is rolled back."""
    current = g.pop("uow", None)
    if current is not None:
        current.__exit__(None, None, None)


def expected_version() -> int | None:
    """The version named by If-Match: one strong ETag as answered ("7"; a bare 7 is taken too).

    A weak tag (W/"7") can never match under If-Match's strong comparison, and anything else is no ETag of
    ours: both are the client's mistake (400), not a stale read (412)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    g.if_match = header
    tag = header.strip()
    if tag.startswith("W/"):
        abort(400, message="If-Match must be a strong ETag such as \"7\", as answered in ETag; "
                           "a weak one (W/...) never matches")
    tag = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag
    if not (tag.isdigit() and len(tag) < 10):
        abort(400, message=f"If-Match must be one ETag such as \"7\", as answered in ETag; got {header[:80]!r}")
    return int(tag)


def etag(version: int) -> dict:
    return {"ETag": f'"{version}"'}
