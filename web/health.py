"""/health: is the database reachable and which workflows are loaded (no authentication)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from marshmallow import Schema, fields

from engine import queries
from web.blueprint import Blueprint
from web.context import uow

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")


class LoadedWorkflowSchema(Schema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)


class HealthSchema(Schema):
    database = fields.String(required=True, metadata={"description": "ok or unreachable"})
    workflows = fields.List(fields.Nested(LoadedWorkflowSchema), required=True)


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="the database is unreachable")
@blp.doc(security=[])
def health():
    """Whether the service can answer: 200 with the loaded workflows, 503 when the database is unreachable."""
    try:
        loaded = queries.loaded_workflows(uow())
    except sa.exc.SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc)
        return {"database": "unreachable", "workflows": []}, 503
    return {"database": "ok", "workflows": [{"name": name, "version": number} for name, number in loaded]}
