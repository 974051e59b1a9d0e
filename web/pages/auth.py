"""Signing in and out, and changing one's password.

Single sign-on (CAS, OIDC) plugs in here: a view that takes the identity provider's answer, finds the
user and calls `start_session(user)`; `authenticate` is the one place a password is checked."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for

from engine import accounts
from engine.errors import InvalidFields
from web import zh
from web.context import uow
from web.pages.common import SESSION_STAMP, SESSION_USER, page_blueprint, require_sign_in
from web.pages.present import localtime

bp = page_blueprint("auth_page", __name__, public=True, template_folder="../templates")


def authenticate(name: str, password: str) -> accounts.SignIn:
    """Check a password sign-in (the seam where a campus directory could be asked instead)."""
    return accounts.sign_in(uow(), name, password)


def start_session(user) -> None:
    session.clear()
    session.permanent = True
    session[SESSION_USER], session[SESSION_STAMP] = user.id, accounts.password_stamp(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next=target, name="")
    name = request.form.get("name", "")
    result = authenticate(name, request.form.get("password", ""))
    uow().commit()  # failures count towards the lockout whether or not this sign-in succeeds
    if result.user is None:
        if result.locked_until is not None:
            error = f"连续登录失败次数过多，账号已锁定至 {localtime(result.locked_until)}，请稍后再试或联系管理员。"
        else:
            error = "用户名或密码不正确。"
        return render_template("auth/login.html", next=target, name=name, error=error), 401
    start_session(result.user)
    return redirect(target or url_for("home_page.index"))


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    flash("您已退出登录。")
    return redirect(url_for("auth_page.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    refused = require_sign_in()
    if refused is not None:
        return refused
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    form = request.form
    errors = {}
    if form.get("new", "") != form.get("repeat", ""):
        errors["repeat"] = "两次输入的新密码不一致"
    else:
        try:
            user = accounts.change_password(uow(), g.user.id, form.get("old", ""), form.get("new", ""))
        except InvalidFields as exc:
            errors = zh.field_errors(exc.fields)
        else:
            uow().commit()
            start_session(user)  # this session stays signed in; others carry the old stamp and end
            flash("密码已修改。")
            return redirect(url_for("home_page.index"))
    return render_template("auth/password.html", errors=errors), 422


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another host) is followed after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
