"""Evidence files: stored once by content hash under the instance folder, recorded against a finding."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from engine import services
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import InvalidFields, NotAllowed, NotFound
from engine.models import Attachment
from engine.unit_of_work import UnitOfWork

MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024
_ZIP = (b"PK\x03\x04",)
# Accepted types and the leading bytes their content must start with (a declared type alone proves nothing).
TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
}


class AttachmentTooLarge(InvalidFields):
    title = "Attachment too large"


def storage_dir(uow: UnitOfWork) -> Path:
    base = uow.store.instance
    if base is None:
        raise RuntimeError("the store has no instance folder to keep attachments in")
    return Path(base) / "attachments"


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def add_attachment(uow: UnitOfWork, finding_id: int, actor: Actor, *, name: str, content_type: str,
                   stream: BinaryIO, max_bytes: int = MAX_BYTES) -> Attachment:
    """Keep an uploaded file for a finding the actor may act on; refuse unknown types and oversize files."""
    finding = services.load_finding(uow, finding_id, actor)
    workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
    movers = {role for t in workflow.transitions for role in t.roles} | set(workflow.reporters)
    if not movers & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not add evidence to findings", sorted(movers))
    content_type = (content_type or "").split(";")[0].strip().lower()
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    if not name or len(name) > 255 or "\x00" in name:
        raise InvalidFields({"file": "a file name of 1 to 255 characters is required"})
    if content_type not in TYPES:
        raise InvalidFields({"file": f"type {content_type or 'unknown'!r} is not accepted; accepted: "
                                     f"{', '.join(sorted(TYPES))}"})
    root = storage_dir(uow)
    digest, size, temp = _receive(root, stream, max_bytes)
    try:
        with open(temp, "rb") as head:
            start = head.read(16)
        if not start.startswith(TYPES[content_type]) or (content_type == "image/webp" and start[8:12] != b"WEBP"):
            raise InvalidFields({"file": f"content is not {content_type}"})
        target = path_for(root, digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)  # the same content always lands at the same path, so a race is harmless
    finally:
        Path(temp).unlink(missing_ok=True)
    attachment = Attachment(finding_id=finding.id, name=name, content_type=content_type, size=size,
                            sha256=digest, uploaded_by=actor.name, created_at=utcnow())
    uow.session.add(attachment)
    uow.session.flush()
    return attachment


def _receive(root: Path, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
    """Copy the stream to a temporary file beside the store, hashing as it goes; stop past `max_bytes`."""
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, temp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentTooLarge({"file": f"larger than the limit of {max_bytes} bytes"})
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidFields({"file": "the file is empty"})
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size, temp


def list_attachments(uow: UnitOfWork, finding_id: int, actor: Actor) -> list[Attachment]:
    services.load_finding(uow, finding_id, actor)
    return list(uow.session.scalars(sa.select(Attachment).where(Attachment.finding_id == finding_id)
                                    .order_by(Attachment.id)))


def get_attachment(uow: UnitOfWork, finding_id: int, attachment_id: int, actor: Actor) -> tuple[Attachment, Path]:
    """An attachment of a finding the actor may see, and where its content is kept."""
    services.load_finding(uow, finding_id, actor)
    item = uow.session.scalars(sa.select(Attachment).where(Attachment.id == attachment_id,
                                                           Attachment.finding_id == finding_id)).first()
    path = path_for(storage_dir(uow), item.sha256) if item else None
    if item is None or not path.is_file():
        raise NotFound("attachment", attachment_id)
    return item, path
