"""Signing in and out: password hashes, lockout shared through the database, password change and reset."""
from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskCliRunner
from page_helpers import PASSWORD, csrf, sign_in

from engine import accounts
from engine.models import User
from web.cli import main


def test_pages_need_a_session_and_sign_in_leads_back(app):
    app.extensions["test.give_password"]("inspector")
    client = app.test_client()
    response = client.get("/findings?state=reported")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    answer = client.post("/login", data={"name": "inspector", "password": PASSWORD, "csrf_token": csrf(client),
                                         "next": "/findings?state=reported"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/findings?state=reported"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("xuncha_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200


def test_sign_in_never_follows_next_to_another_host(app):
    app.extensions["test.give_password"]("inspector")
    client = app.test_client()
    answer = client.post("/login", data={"name": "inspector", "password": PASSWORD, "csrf_token": csrf(client),
                                         "next": "//evil.example/x"})
    assert answer.headers["Location"] == "/"


def test_wrong_password_is_refused_in_chinese_and_the_hash_is_not_the_password(app, campus):
    app.extensions["test.give_password"]("inspector")
    client = app.test_client()
    response = sign_in(client, "inspector", "wrong-password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)
    with campus.store.uow(write=False) as uow:
        stored = uow.session.scalar(sa.select(User.password_hash).where(User.name == "inspector"))
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_five_failures_lock_the_account_until_an_administrator_resets_it(app, campus, browser):
    app.extensions["test.give_password"]("food")
    client = app.test_client()
    for _ in range(accounts.MAX_FAILURES):
        sign_in(client, "food", "wrong-password")
    locked = sign_in(client, "food")  # the right password, but locked
    assert locked.status_code == 401 and "已锁定" in locked.get_data(as_text=True)
    admin = browser("admin")
    reset = admin.post("/admin/users/food/password",
                       data={"password": "新的密码-2026", "csrf_token": csrf(admin, "/admin/users")})
    assert reset.status_code == 303
    assert sign_in(client, "food", "新的密码-2026").status_code == 302


def test_logout_ends_the_session(browser):
    client = browser("inspector")
    assert client.post("/logout", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_needs_the_old_one_and_ends_other_sessions(app, browser):
    first, second = browser("prop"), browser("prop")
    token = csrf(first, "/account/password")
    wrong = first.post("/account/password", data={"old": "nope", "new": "另一个密码abc", "repeat": "另一个密码abc",
                                                  "csrf_token": token})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    done = first.post("/account/password", data={"old": PASSWORD, "new": "另一个密码abc", "repeat": "另一个密码abc",
                                                 "csrf_token": token})
    assert done.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # the other session carried the old password's stamp


def test_a_disabled_user_is_signed_out(browser):
    client, admin = browser("food"), browser("admin")
    admin.post("/admin/users/food", data={"roles": ["centre"], "unit": "FOOD", "active": "0",
                                          "csrf_token": csrf(admin, "/admin/users")})
    assert client.get("/").status_code == 302


def test_cli_sets_a_password(app, campus, monkeypatch):
    monkeypatch.setenv("XUNCHA_DATABASE_URL", campus.store.url)
    result = FlaskCliRunner(app).invoke(main, ["user", "set-password", "leader", "--password-stdin"],
                                        input="命令行设置的密码\n")
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), "leader", "命令行设置的密码").status_code == 302
