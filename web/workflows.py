"""/workflows: the stored workflow versions, their diagrams, lint, and loading a new version."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import Response, request, url_for
from flask_smorest import abort

from engine import admin, checking, queries
from web import present
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.errors import problem
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas_workflows import (
    DiagramQuerySchema,
    LintResultSchema,
    LoadResultSchema,
    VersionSchema,
    WorkflowDetailSchema,
    WorkflowSummarySchema,
)
from workflows import diagram, yamlsrc

blp = Blueprint("workflows", __name__, url_prefix="/api/v1/workflows", description="Workflow definitions")
blp.before_request(authenticate)
NAME = "<string(maxlength=64):name>"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
YAML_BODY = {"required": True, "content": {kind: {"schema": {"type": "string"}} for kind in YAML_TYPES}}


@blp.route("", methods=["GET"])
@blp.response(200, WorkflowSummarySchema(many=True))
def index():
    """Every workflow at its active version."""
    return [present.workflow_summary(info) for info in queries.active_workflows(uow())]


@blp.route(f"/{NAME}", methods=["GET"])
@blp.response(200, WorkflowDetailSchema)
def workflow(name):
    """The active version: YAML text, states, transitions, roles, version number and sha256."""
    return present.workflow_detail(queries.workflow_version(uow(), name))


@blp.route(f"/{NAME}/versions", methods=["GET"])
@blp.response(200, VersionSchema(many=True))
def versions(name):
    """Every stored version of the workflow, oldest first."""
    return [present.version(row) for row in queries.workflow_versions(uow(), name)]


@blp.route(f"/{NAME}/diagram", methods=["GET"])
@blp.arguments(DiagramQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "Mermaid text or SVG", "content": {
    "text/plain": {"schema": {"type": "string"}}, "image/svg+xml": {"schema": {"type": "string"}}}}})
def draw(args, name):
    """The workflow as a Mermaid state diagram, or SVG (501 when Graphviz is not installed)."""
    info = queries.workflow_version(uow(), name, args.get("version"))
    if args["format"] == "mermaid":
        return Response(diagram.mermaid(info.workflow, args["lang"]), content_type="text/plain; charset=utf-8")
    drawing = diagram.svg(info.workflow, args["lang"])
    if drawing is None:
        return problem(501, "SVG needs Graphviz ('dot') on the server; ask for format=mermaid", kind="no-graphviz")
    return Response(drawing, content_type="image/svg+xml; charset=utf-8")


@blp.route("/lint", methods=["POST"])
@blp.doc(requestBody=YAML_BODY)
@blp.response(200, LintResultSchema)
def lint():
    """Administrators: check YAML workflow text and list its problems by line; nothing is stored."""
    queries.require_role(current_actor(), ("admin",), "lint workflows")
    with _one_check_at_a_time():
        return present.lint_result(checking.lint_apart(_yaml_text(), "<upload>"))


@blp.route("", methods=["POST"])
@idempotent
@blp.doc(requestBody=YAML_BODY)
@blp.response(201, LoadResultSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(parameters=[KEY_PARAMETER])
def load():
    """Administrators: store each changed workflow of the YAML text as a new active version (422 lists problems)."""
    actor = current_actor()
    queries.require_role(actor, ("admin",), "load workflows")
    with _one_check_at_a_time():
        loaded = admin.load_workflows(uow(), _yaml_text(), by=actor.name)
    where = {"Location": url_for(".workflow", name=loaded[0].name)} if loaded else {}
    return {"loaded": [present.loaded(item) for item in loaded]}, where


# Checking a large workflow text costs up to a second of CPU; one at a time per process leaves the other threads
# free to answer everyone else, whatever an administrator's script sends at once.
_CHECKING = threading.BoundedSemaphore(1)


@contextmanager
def _one_check_at_a_time():
    if not _CHECKING.acquire(blocking=False):
        abort(429, message="another workflow text is being checked by this server process; send it again shortly",
              headers={"Retry-After": "1"})
    try:
        yield
    finally:
        _CHECKING.release()


def _yaml_text() -> str:
    if (request.content_length or 0) > yamlsrc.MAX_BYTES:  # refused before it is read
        abort(413, message=f"a workflow file may have at most {yamlsrc.MAX_BYTES} bytes")
    if request.mimetype not in YAML_TYPES:
        abort(415, message=f"send the YAML text with Content-Type {YAML_TYPES[0]} (or {', '.join(YAML_TYPES[1:])})")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        abort(400, message="the YAML text is not valid UTF-8")
