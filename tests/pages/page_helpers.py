"""Helpers for page tests: the campus password, a form's CSRF token, signing in through the login form."""
from __future__ import annotations

import re

PASSWORD = "巡查-password-1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path: str = "/login") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    if password == PASSWORD:
        client.application.extensions["test.give_password"](name)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf(client)})
