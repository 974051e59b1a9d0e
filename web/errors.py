"""Every error as application/problem+json: domain errors, HTTP errors, database trouble and crashes."""
from __future__ import annotations

import http
import json

import sqlalchemy as sa
from flask import Flask, Response, current_app, g
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from engine import errors
from engine.attachments import AttachmentTooLarge
from web import encoding, zh
from web.present import line_problem
from web.schemas import ProblemSchema

PROBLEM = "application/problem+json"
TYPE_BASE = "urn:xuncha:problem:"


def problem(status: int, detail: str | None = None, *, title: str | None = None, kind: str | None = None,
            headers: dict | None = None, **extra) -> Response:
    """A problem+json response; `extra` adds members such as `errors`, `state` or `reason`."""
    phrase = http.HTTPStatus(status).phrase
    body = {"type": TYPE_BASE + kind if kind else "about:blank", "title": title or phrase, "status": status,
            "detail": detail or phrase}
    body.update({k: v for k, v in extra.items() if v is not None})
    text = encoding.dumps(body)
    return Response(text, status, headers=headers, content_type=f"{PROBLEM}; charset=utf-8")


def domain_problem(exc: errors.DomainError) -> Response:
    """One HTTP status and shape per domain error; in Chinese when Accept-Language prefers it."""
    response = _domain_problem(exc)
    if not zh.wants_chinese():
        return response
    body = json.loads(response.get_data(as_text=True))
    body["title"], body["detail"] = zh.title(body["title"]), zh.detail(exc)
    if isinstance(body.get("errors"), dict):
        body["errors"] = zh.field_errors(body["errors"])
    response.set_data(encoding.dumps(body))
    response.headers["Content-Language"] = "zh-CN"
    return response


def _domain_problem(exc: errors.DomainError) -> Response:
    if isinstance(exc, errors.NotFound):
        return problem(404, str(exc), title=exc.title, kind="not-found")
    if isinstance(exc, errors.InvalidToken):
        return problem(401, str(exc), title=exc.title, kind="invalid-token",
                       headers={"WWW-Authenticate": 'Bearer realm="xuncha", error="invalid_token"'})
    if isinstance(exc, errors.NotAllowed):
        return problem(403, str(exc), title=exc.title, kind="not-allowed", roles_needed=list(exc.roles_needed))
    if isinstance(exc, errors.InvalidEvent):
        return problem(409, str(exc), title=exc.title, kind="invalid-event", state=exc.state, event=exc.event,
                       allowed=exc.allowed)
    if isinstance(exc, AttachmentTooLarge):
        return problem(413, str(exc), title=exc.title, kind="too-large", errors=exc.fields)
    if isinstance(exc, errors.MissingFields):  # and InvalidFields
        kind = "invalid-fields" if isinstance(exc, errors.InvalidFields) else "missing-fields"
        return problem(422, str(exc), title=exc.title, kind=kind, errors=exc.fields)
    if isinstance(exc, errors.GuardRefused):
        return problem(422, exc.reason, title=exc.title, kind="guard-refused", guard=exc.guard,
                       reason={"zh": exc.reason, "en": exc.reason_en})
    if isinstance(exc, errors.VersionConflict):
        # A stale If-Match is a failed precondition; a conflict found any other way is a plain conflict.
        status = 412 if g.get("if_match") is not None else 409
        return problem(status, str(exc), title=exc.title, kind="version-conflict", expected=exc.expected,
                       actual=exc.actual)
    if isinstance(exc, errors.Conflict):
        return problem(409, str(exc), title=exc.title, kind="conflict")
    if isinstance(exc, errors.RowsRejected):
        return problem(422, str(exc), title=exc.title, kind="rows-rejected", errors=exc.rows)
    if isinstance(exc, errors.WorkflowRejected):
        return problem(422, f"{len(exc.problems)} problem(s); nothing was stored", title=exc.title,
                       kind="workflow-rejected", errors=[line_problem(p) for p in exc.problems])
    return problem(422, str(exc), title=exc.title, kind="invalid-input")


def http_problem(exc: HTTPException) -> Response:
    """Werkzeug and webargs errors (routing, malformed JSON, schema validation, size) in the same shape."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 422 and messages:
        fields = _flatten(messages)
        return problem(422, "; ".join(f"{k}: {v}" for k, v in fields.items()), title="Invalid request",
                       kind="invalid-request", errors=fields, headers=headers)
    if status == 400 and messages:
        return problem(400, " ".join(str(m) for m in _flatten(messages).values()), kind="malformed-request",
                       headers=headers)
    detail = data.get("message") or exc.description
    return problem(status, detail if status < 500 else None, headers=headers or None)


def _flatten(messages) -> dict[str, str]:
    """webargs nests messages under their location ({"json": {"title": [...]}}); callers want {field: message}."""
    out: dict[str, str] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[prefix or "body"] = " ".join(value)
        else:
            out[prefix or "body"] = str(value)

    for location, inner in messages.items():
        if isinstance(inner, dict):
            walk("", inner)
        else:
            walk(str(location), inner)
    return out


def crash_problem(exc: Exception) -> Response:
    """Database trouble and bugs: log the trace for the operator, tell the client nothing about internals."""
    if isinstance(getattr(exc, "orig", None) or exc, UnicodeError):
        return problem(422, "text must be valid Unicode; a lone surrogate escape cannot be stored",
                       title="Invalid text", kind="invalid-text")
    if isinstance(exc, sa.exc.DataError):
        # The database refused a value (out of range, NUL byte); the transaction rolled back, nothing changed.
        return problem(422, "a value is out of range or contains characters the database cannot store",
                       title="Invalid value", kind="invalid-value")
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        current_app.logger.error("database unavailable: %s", exc)
        return problem(503, "the database is unavailable; try again shortly", headers={"Retry-After": "5"})
    current_app.logger.exception("unhandled error")
    return problem(500, "an internal error occurred; it has been logged")


class ProblemApi(Api):
    """flask-smorest's Api, answering and documenting every error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return http_problem(error)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.DomainError, domain_problem)
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(Exception, crash_problem)
