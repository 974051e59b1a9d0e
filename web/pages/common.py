"""What every page blueprint shares: the signed-in person, CSRF on every form, errors as Chinese pages."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from engine import accounts, errors
from engine.actors import Actor, actor_for
from web import zh
from web.context import uow

SESSION_USER, SESSION_STAMP = "uid", "pw"


def page_blueprint(name: str, import_name: str, *, public: bool = False, **kw) -> Blueprint:
    """A blueprint of pages: signed-in only (unless public), forms CSRF-checked, errors shown as pages."""
    bp = Blueprint(name, import_name, **kw)
    if not public:
        bp.before_request(require_sign_in)
    bp.before_request(check_csrf)
    bp.register_error_handler(errors.DomainError, error_page)
    bp.register_error_handler(CSRFError, csrf_page)
    return bp


def check_csrf():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()


def require_sign_in():
    """Load the person from the session cookie; a stale or missing session goes to the sign-in page."""
    user_id = session.get(SESSION_USER)
    user = accounts.session_user(uow(), user_id) if isinstance(user_id, int) else None
    if user is None or session.get(SESSION_STAMP) != accounts.password_stamp(user):
        session.clear()
        return redirect(url_for("auth_page.login", next=request.full_path if request.method == "GET" else None))
    g.user = user
    g.actor = actor_for(uow().session, user, uow().store.directory.parents(uow().session))
    return None


def current_actor() -> Actor:
    return g.actor


def require_roles(*roles: str):
    """Refuse (403) a person holding none of `roles`, before the view runs."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not set(roles) & set(current_actor().roles):
                raise errors.NotAllowed(f"{current_actor().name} may not open this page", roles)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def error_page(exc: errors.DomainError):
    status = 404 if isinstance(exc, errors.NotFound) else 403 if isinstance(exc, errors.NotAllowed) else 422
    return render_template("error.html", status=status, title=zh.title(exc.title), detail=zh.detail(exc)), status


def csrf_page(exc: CSRFError):
    return render_template("error.html", status=400, title="表单已失效",
                           detail="页面表单的安全令牌缺失或已过期，请返回上一页刷新后重新提交。"), 400
