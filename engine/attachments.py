"""Evidence files: stored once by content hash under the instance folder, recorded against a finding."""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from engine import images, services
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
    "image/heic": (b"",),  # ISO media files start with a box length; Pillow proves these (engine.images)
    "image/heif": (b"",),
}
_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


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
    """Keep an uploaded file for a finding the actor may act on; refuse unknown types and oversize files.

    Photos are re-encoded from their pixels (upright, no EXIF or GPS; HEIC becomes JPEG). The file work comes
    before the first query, so the transaction (on SQLite, the write lock) is not held meanwhile; the file
    reaches its place only when the transaction commits, and is removed if it does not."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    name = _display_name(name)
    if content_type not in TYPES:
        raise InvalidFields({"file": f"type {content_type or 'unknown'!r} is not accepted; accepted: "
                                     f"{', '.join(sorted(TYPES))}"})
    root = storage_dir(uow)
    temp = _prepare(root, stream, max_bytes, content_type)
    uow.after_close(lambda: Path(temp.path).unlink(missing_ok=True))  # moved away by then if it committed
    if temp.content_type != content_type and content_type in ("image/heic", "image/heif"):
        name = (name.rsplit(".", 1)[0] if "." in name else name)[:250] + images.SUFFIXES[temp.content_type]
    finding = services.load_finding(uow, finding_id, actor)
    workflow = uow.registry.get(uow.session, finding.workflow_name, finding.workflow_version)
    movers = {role for t in workflow.transitions for role in t.roles} | set(workflow.reporters)
    if not movers & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not add evidence to findings", sorted(movers))
    target = path_for(root, temp.sha256)

    def keep():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp.path, target)  # the same content always lands at the same path, so a race is harmless

    uow.after_commit(keep)
    attachment = Attachment(finding_id=finding.id, name=name, content_type=temp.content_type, size=temp.size,
                            sha256=temp.sha256, uploaded_by=actor.name, created_at=utcnow())
    uow.session.add(attachment)
    uow.session.flush()
    return attachment


def _display_name(name: str) -> str:
    """The name shown and offered on download: a plain file name, never a path or a control character."""
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise InvalidFields({"file": "a file name of 1 to 255 characters is required"})
    if name in (".", "..") or "/" in name or "\\" in name or _CONTROL & set(name):
        raise InvalidFields({"file": f"{name!r} is not a plain file name (no paths, no control characters)"})
    return name


@dataclass
class _Prepared:
    path: str
    sha256: str
    size: int
    content_type: str


def _prepare(root: Path, stream: BinaryIO, max_bytes: int, content_type: str) -> _Prepared:
    """Receive the upload beside the store, check its content, re-encode photos; a temporary file results."""
    digest, size, temp = _receive(root, stream, max_bytes)
    try:
        if content_type in images.IMAGE_TYPES:
            fd, clean = tempfile.mkstemp(dir=root, prefix=".image-")
            os.close(fd)
            try:
                stored = images.reencode(Path(temp), Path(clean), content_type)
            except images.NotAnImage as exc:
                Path(clean).unlink(missing_ok=True)
                raise InvalidFields({"file": str(exc)}) from None
            Path(temp).unlink(missing_ok=True)
            temp, content_type = clean, stored
            digest, size = _hash(clean)
        else:
            with open(temp, "rb") as head:
                start = head.read(16)
            if not start.startswith(TYPES[content_type]):
                raise InvalidFields({"file": f"content is not {content_type}"})
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return _Prepared(temp, digest, size, content_type)


def _hash(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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
