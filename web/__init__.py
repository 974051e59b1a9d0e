"""The HTTP face of Xuncha: `create_app` builds the Flask application."""
from __future__ import annotations

import os

from flask import Flask

from engine.attachments import MAX_BYTES
from engine.config import Settings
from engine.unit_of_work import Store
from web import (
    attachments,
    audit,
    briefings,
    coverage,
    errors,
    findings,
    health,
    imports,
    loop,
    me,
    notify,
    pages,
    places,
    public,
    qr,
    ratelimit,
    rounds,
    workflows,
)
from web.context import close_uow
from web.encoding import JSONProvider

API_DEFAULTS = {
    "API_TITLE": "Xuncha 巡查",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/",  # vendored (web/static/VENDORED.md): no CDN on an intranet
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},  # the validator badge would call a public service
    "API_SPEC_OPTIONS": {
        "info": {"description": "Campus service-inspection findings, from report to rectification and sanction. "
                                "Send `Authorization: Bearer <token>` (from `xuncha user create`)."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    },
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "ATTACHMENT_MAX_BYTES": MAX_BYTES,
}


def create_app(config: dict | None = None) -> Flask:
    """Application factory; `config` overrides settings (tests pass STORE, TESTING, MAX_CONTENT_LENGTH, ...)."""
    settings = Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance))
    app.json = JSONProvider(app)  # Chinese stays readable (and byte-exact) in every JSON answer
    app.config.update(DATABASE_URL=settings.database_url, WORKFLOWS=settings.workflows_file, **API_DEFAULTS)
    app.config.update(pages.defaults())
    app.config.update(ratelimit.defaults())
    # Where phones reach the public pages (the QR codes hold it): e.g. https://xuncha.example.edu.cn
    app.config.update(PUBLIC_BASE_URL=os.environ.get("XUNCHA_PUBLIC_BASE_URL") or None)
    app.config.update(config or {})
    app.extensions["xuncha.store"] = app.config.get("STORE") or Store(app.config["DATABASE_URL"],
                                                                       instance=settings.instance)
    api = errors.ProblemApi(app)
    for module in (findings, attachments, audit, workflows, health, me, places, qr, rounds, coverage):
        api.register_blueprint(module.blp)
    for blueprint in (*loop.BLUEPRINTS, *notify.BLUEPRINTS):
        api.register_blueprint(blueprint)
    api.register_blueprint(briefings.blp)
    api.register_blueprint(imports.blp)
    app.add_url_rule("/health", "health_alias", health.health)  # for load balancers that probe the root
    errors.init_app(app)
    pages.init_app(app)
    ratelimit.init_app(app)
    app.register_blueprint(public.bp)  # /r/<place code>: the QR codes' pages, no sign-in
    app.teardown_request(close_uow)
    return app
