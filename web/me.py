"""/me: who the token belongs to, what it may do, and until when."""
from __future__ import annotations

from marshmallow import Schema, fields

from engine import users
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.schemas import LabelSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller")
blp.before_request(authenticate)


class MyUnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.Nested(LabelSchema, required=True)


class MeSchema(Schema):
    name = fields.String(required=True)
    display_name = fields.String(allow_none=True, required=True)
    roles = fields.List(fields.String(), required=True)
    unit = fields.Nested(MyUnitSchema, allow_none=True, required=True)
    token_expires_at = fields.DateTime(allow_none=True, required=True,
                                       metadata={"description": "after it, the token answers 401"})
    token_used_at = fields.DateTime(allow_none=True, required=True,
                                    metadata={"description": "last use, to the minute"})


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def me():
    """The calling user: name, roles, unit, and when its token expires."""
    user = users.user_by_name(uow(), current_actor().name)
    unit = {"code": user.unit.code, "name": {"zh": user.unit.name, "en": user.unit.name_en or user.unit.name}} \
        if user.unit else None
    return {"name": user.name, "display_name": user.display_name, "roles": list(user.roles or ()), "unit": unit,
            "token_expires_at": user.token_expires_at, "token_used_at": user.token_used_at}
