"""Forms generated from a transition's YAML fields, and their answers turned into the event's payload."""
from __future__ import annotations

import math

from engine import attachments
from engine.actors import Actor
from engine.errors import InvalidFields
from engine.unit_of_work import UnitOfWork
from web import zh
from workflows.model import Transition


def payload_from_form(uow: UnitOfWork, finding_id: int, actor: Actor, transition: Transition, form,
                      files) -> dict:
    """The payload the form describes; uploaded files become attachments of the finding (same transaction).

    Empty answers are left out, so the engine reports a required field as missing; a number that does not
    parse is refused here, naming its field."""
    payload, problems = {}, {}
    for spec in transition.fields:
        name = spec.name
        if spec.type == "attachments":
            uploads = [f for f in files.getlist(name) if f and f.filename]
            ids = []
            for upload in uploads:
                try:
                    item = attachments.add_attachment(uow, finding_id, actor, name=upload.filename,
                                                      content_type=upload.mimetype, stream=upload.stream)
                except InvalidFields as exc:
                    problems[name] = zh.message(exc.fields.get("file", str(exc)))
                    break
                ids.append(item.id)
            if ids:
                payload[name] = ids
            continue
        text = (form.get(name) or "").strip()
        if not text:
            continue
        if spec.type == "number":
            try:
                number = float(text)
            except ValueError:
                problems[name] = "须为数字"
                continue
            if not math.isfinite(number):
                problems[name] = "须为数字"
                continue
            payload[name] = int(number) if number.is_integer() else number
        else:
            payload[name] = text
    if problems:
        raise InvalidFields(problems)
    return payload
