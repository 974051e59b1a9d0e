"""Page fixtures: the app on the shared campus database, people with passwords, signed-in browsers (test client)."""
from __future__ import annotations

import pytest
from page_helpers import PASSWORD, sign_in

from engine import accounts
from web import create_app


@pytest.fixture
def app(campus):
    """The app; campus users get PASSWORD on first use (hashing every one each test would be slow)."""
    app = create_app({"STORE": campus.store, "TESTING": True, "SECRET_KEY": "test-secret"})
    app.extensions["test.passwords"] = set()

    def give(name: str) -> None:
        if name not in app.extensions["test.passwords"]:
            with campus.store.uow() as uow:
                accounts.set_password(uow, None, name, PASSWORD)
                uow.commit()
            app.extensions["test.passwords"].add(name)

    app.extensions["test.give_password"] = give
    return app


@pytest.fixture
def browser(app):
    """`browser("food")`: a test client signed in as that campus user."""
    def make(name: str):
        client = app.test_client()
        assert sign_in(client, name).status_code == 302
        return client
    return make
