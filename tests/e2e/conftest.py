"""HTTP fixtures: the app on the shared campus database, and callers that send a user's bearer token."""
from __future__ import annotations

import pytest
from http_helpers import Caller

from web import create_app


@pytest.fixture
def app(campus):
    return create_app({"STORE": campus.store, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_(client, campus):
    """`as_("food").get("/findings")`: a caller with that campus user's token (None: no token)."""
    return lambda name: Caller(client, campus.tokens[name] if name else None)
