"""The web workplace in Chinese: page blueprints beside the JSON API, sharing its engine use cases."""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from web import errors
from web.pages import (
    admin,
    audit,
    auth,
    briefings,
    coverage,
    findings,
    home,
    notifications,
    places,
    report,
    rounds,
    scorecards,
    workflows,
)
from web.pages import present as pp

BLUEPRINTS = (auth.bp, home.bp, findings.bp, report.bp, places.bp, rounds.bp, coverage.bp, briefings.bp,
              notifications.bp, audit.bp, scorecards.bp, workflows.bp, admin.bp)
# The navigation: an entry shows when its page exists in this build and the person holds one of its roles
# (None: everyone signed in). Centres plan and record their own self-inspection rounds and read the coverage
# of their own places; briefings are not for the public channel (the engine refuses them either way).
NAV = (
    ("home_page.index", "工作台", None),
    ("findings_page.index", "问题列表", None),
    ("report_page.new", "上报问题", ("inspector", "centre", "admin", "public")),
    ("places_page.index", "点位", None),
    ("rounds_page.index", "巡查轮次", ("inspector", "centre", "leader", "admin", "auditor")),
    ("coverage_page.index", "覆盖情况", ("inspector", "centre", "leader", "admin", "auditor")),
    ("briefings_page.index", "巡查简报", ("inspector", "centre", "leader", "admin", "auditor")),
    ("notifications_page.index", "通知", None),
    ("scorecards_page.index", "考核", ("inspector", "centre", "leader", "admin", "auditor")),
    ("audit_page.index", "审计", ("auditor", "admin")),
    ("workflows_page.index", "流程管理", ("admin",)),
    ("admin_page.users", "组织与用户", ("admin",)),
)
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def defaults() -> dict:
    """Session and CSRF settings (create_app applies them before the caller's config, which may override)."""
    return {
        "SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("XUNCHA_SECURE_COOKIES", "0") == "1",
        "SESSION_COOKIE_NAME": "xuncha_session", "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_CHECK_DEFAULT": False,  # the pages check it; the API authenticates with bearer tokens
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    }


def init_app(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("XUNCHA_SECRET_KEY") or _instance_secret(app)
    CSRFProtect(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    app.jinja_env.filters.update(pp.FILTERS)
    app.context_processor(lambda: {"nav": _nav(), "zh_field": pp.field_label})
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _http_error)


def _http_error(exc: HTTPException):
    """Pages answer HTTP errors with a page; the API keeps problem+json."""
    if request.path.startswith("/api/") or not request.accept_mimetypes.accept_html:
        return errors.http_problem(exc)
    status = exc.code or 500
    return render_template("error.html", status=status, title=HTTP_TITLES.get(status, exc.name),
                           detail=HTTP_DETAILS.get(status, "")), status


HTTP_TITLES = {404: "页面不存在", 405: "不支持的操作", 413: "上传的文件过大", 400: "请求有误"}
HTTP_DETAILS = {404: "您访问的页面不存在或已被移除。", 413: "单次上传总大小不能超过 16 MB，请压缩照片后重试。"}


def _instance_secret(app: Flask) -> str:
    """The key signing session cookies: made once at first start, kept in the instance folder (mode 0600).

    Written to a temporary file and linked into place, so workers starting together agree on one key."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
            os.link(temp, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        finally:
            os.unlink(temp)
    return path.read_text().strip()


def _nav() -> list[tuple[str, str]]:
    actor = g.get("actor")
    if actor is None:
        return []
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label, roles in NAV
            if endpoint in views and (roles is None or set(roles) & set(actor.roles))]


def _headers(response):
    if response.mimetype == "text/html" and not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
