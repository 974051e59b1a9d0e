"""/imports: past findings from an office's spreadsheet (administrators), checked row by row, all or none."""
from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError, fields

from engine.errors import InvalidFields
from engine.imports.mapping import load_mapping
from engine.imports.service import import_findings
from web.auth import authenticate, current_actor
from web.blueprint import Blueprint
from web.context import uow

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports", description="Import of past findings")
blp.before_request(authenticate)


class ImportFormSchema(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check and report; change nothing"})
    mapping = fields.String(load_default=None, metadata={
        "description": "YAML: columns: {title: 问题描述, ...}, states: {已完成: closed, ...}"})


class ImportUploadSchema(ImportFormSchema):
    """The multipart body: the file, and the form fields (read from the form; listed here for the docs)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": ".xlsx, .xls or .csv (UTF-8 or GBK)"})


class RowProblemSchema(Schema):
    row = fields.Integer(required=True)
    column = fields.String(required=True)
    message = fields.String(required=True)


class ImportReportSchema(Schema):
    file = fields.String(required=True)
    sha256 = fields.String(required=True)
    rows = fields.Integer(required=True)
    valid = fields.Integer(required=True)
    already_imported = fields.Integer(required=True, metadata={"description": "rows of this file imported before"})
    imported = fields.Integer(required=True)
    dry_run = fields.Boolean(required=True)
    errors = fields.List(fields.Nested(RowProblemSchema), required=True)
    finding_ids = fields.List(fields.Integer(), required=True)


@blp.route("", methods=["POST"])
@blp.arguments(ImportUploadSchema, location="files")
@blp.response(200, ImportReportSchema)
def create(files):
    """Import findings from a sheet (administrators). A dry run lists every bad row; a real run imports every
    row not imported before from this same file, or, if any row is wrong, nothing (422 naming each row)."""
    try:
        form = ImportFormSchema().load(request.form.to_dict())
    except ValidationError as exc:
        raise InvalidFields({k: " ".join(map(str, v)) for k, v in exc.messages.items()}) from None
    upload = files["file"]
    if not upload.filename:
        raise InvalidFields({"file": "a file name ending in .xlsx, .xls or .csv is required"})
    report = import_findings(uow(), current_actor(), upload.read(), upload.filename, load_mapping(form["mapping"]),
                             dry_run=form["dry_run"])
    if not form["dry_run"]:
        uow().commit()
    return report.as_dict()


