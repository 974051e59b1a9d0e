"""The active places configuration of a database: stored by `xuncha init`, parsed once per text and shared."""
from __future__ import annotations

import hashlib
import threading

import sqlalchemy as sa

from engine.db import utcnow
from engine.errors import InvalidInput, WorkflowRejected
from engine.models import PlaceConfigVersion
from engine.unit_of_work import UnitOfWork
from workflows.places import PlaceConfig, lint_places_text, load_places_text

_lock = threading.Lock()
_parsed: dict[str, PlaceConfig] = {}  # sha256 of the text -> configuration; texts never change


def load_config(uow: UnitOfWork, text: str, *, file: str = "<upload>", by: str,
                known_roles: set[str] | None = None) -> bool:
    """Store `text` as the active places configuration unless it is the active one already; refuse errors."""
    errors = [p for p in lint_places_text(text, file, known_roles) if p.severity == "error"]
    if errors:
        raise WorkflowRejected(errors)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = uow.session.scalar(sa.select(PlaceConfigVersion.sha256).order_by(PlaceConfigVersion.id.desc())
                                 .limit(1))
    if current == digest:
        return False
    uow.session.add(PlaceConfigVersion(yaml_text=text, sha256=digest, created_by=by, created_at=utcnow()))
    uow.memo.pop("place_config", None)
    uow.session.flush()
    return True


def loaded_config(uow: UnitOfWork) -> PlaceConfig | None:
    """The configuration loaded last, or None before any was (a database that registers no places)."""
    try:
        return current_config(uow)
    except InvalidInput:
        return None


def current_config(uow: UnitOfWork) -> PlaceConfig:
    """The configuration loaded last; InvalidInput when none was (`xuncha init` loads places.yaml)."""
    cached = uow.memo.get("place_config")  # once per transaction: a demo records thousands of checks
    if cached is not None:
        return cached
    row = uow.session.execute(sa.select(PlaceConfigVersion.id, PlaceConfigVersion.sha256)
                              .order_by(PlaceConfigVersion.id.desc()).limit(1)).first()
    if row is None:
        raise InvalidInput("no places configuration is loaded: run `xuncha init` (it loads places.yaml)")
    config = _parsed.get(row.sha256)
    if config is None:
        text = uow.session.scalar(sa.select(PlaceConfigVersion.yaml_text).where(PlaceConfigVersion.id == row.id))
        with _lock:
            config = _parsed.setdefault(row.sha256, load_places_text(text, f"places config {row.id}"))
    uow.memo["place_config"] = config
    return config
