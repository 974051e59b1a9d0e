"""/findings/{id}/attachments: evidence photos and documents, named later in a transition's payload."""
from __future__ import annotations

from flask import current_app, send_file, url_for
from flask_smorest.fields import Upload
from marshmallow import Schema

from engine import attachments
from web import present
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow
from web.idempotency import KEY_PARAMETER, idempotent
from web.schemas import AttachmentSchema

blp = Blueprint("attachments", __name__, url_prefix="/api/v1/findings", description="Evidence files")
blp.before_request(authenticate)
BASE = "/<int(max=2147483647):finding_id>/attachments"


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "JPEG, PNG, GIF, WebP, HEIC (stored as JPEG), PDF, DOCX "
                                                          "or XLSX; photos are re-encoded without EXIF"})


@blp.route(BASE, methods=["POST"])
@idempotent
@blp.arguments(UploadSchema, location="files")
@blp.response(201, AttachmentSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(parameters=[KEY_PARAMETER])
def upload(args, finding_id):
    """Attach a file to the finding; answers its id and sha256 (413 over the size limit, 422 wrong type)."""
    file = args["file"]
    item = attachments.add_attachment(uow(), finding_id, current_actor(), name=file.filename or "",
                                      content_type=file.mimetype, stream=file.stream,
                                      max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
    return present.attachment(item), {"Location": url_for(".download", finding_id=finding_id,
                                                          attachment_id=item.id)}


@blp.route(BASE, methods=["GET"])
@blp.response(200, AttachmentSchema(many=True))
def index(finding_id):
    """The finding's attachments."""
    return [present.attachment(a) for a in attachments.list_attachments(uow(), finding_id, current_actor())]


@blp.route(f"{BASE}/<int(max=2147483647):attachment_id>", methods=["GET"])
@blp.doc(responses={"200": {"description": "the file", "content": {
    kind: {"schema": {"type": "string", "format": "binary"}} for kind in sorted(attachments.TYPES)}}})
def download(finding_id, attachment_id):
    """The file itself: photos shown inline, other files as downloads; never interpreted as a page."""
    item, path = attachments.get_attachment(uow(), finding_id, attachment_id, current_actor())
    response = send_file(path, mimetype=item.content_type, download_name=item.name, etag=item.sha256,
                         as_attachment=not item.content_type.startswith("image/"))
    response.headers.update(DOWNLOAD_HEADERS)
    return response


# Whatever a file holds, a browser neither guesses another type for it nor runs anything in it.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
