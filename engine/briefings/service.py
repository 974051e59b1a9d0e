"""Briefing use cases: draft, list, read, publish (numbered and frozen), and the files of one."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from engine import audit, messagebus
from engine.actors import Actor
from engine.attachments import path_for, storage_dir
from engine.audit import anchors
from engine.briefings.build import Scope, build_content
from engine.db import utcnow
from engine.errors import Conflict, InvalidFields, NotAllowed, NotFound
from engine.events import BriefingPublished
from engine.models import Briefing, BriefingFile, InspectionRound, Unit
from engine.queries import require_role
from engine.unit_of_work import UnitOfWork

DRAFTERS = ("admin", "inspector")
PUBLISHERS = ("admin", "inspector")
NUMBER_ATTEMPTS = 8
MAX_DAYS = 3 * 366
MAX_ROUND_ID = 2147483647

# A renderer turns the plain content into a document; `photo` gives the file of an attachment by sha256.
PhotoPath = Callable[[str], Path | None]
Renderer = Callable[[dict, PhotoPath], bytes]


@dataclass(frozen=True)
class Renderers:
    """What publication stores: the Word file always, the PDF when a converter is at hand (None: skip)."""

    docx: Renderer
    pdf: Callable[[bytes], bytes] | None = None


def number_text(year: int, number: int) -> str:
    return f"{year}年第{number}期"


def draft(uow: UnitOfWork, actor: Actor, scope: Scope | None, *, corrects: int | None = None,
          title: str | None = None, now: datetime | None = None) -> Briefing:
    """A new draft for a period (optionally rounds and a unit), or a correction (更正) of a published one."""
    require_role(actor, DRAFTERS, "draft briefings")
    session = uow.session
    original = None
    if corrects is not None:
        original = session.get(Briefing, corrects)
        if original is None or original.status != "published":
            raise InvalidFields({"corrects": f"no published briefing {corrects}: only a published one is corrected"})
        if scope is None:
            scope = Scope(original.period_start, original.period_end, tuple(original.rounds or ()),
                          original.unit_code)
    if scope is None:
        raise InvalidFields({"from": "required", "to": "required"})
    _check_scope(uow, scope)
    if original is None or scope.rounds != tuple(original.rounds or ()):  # a correction keeps the original's
        scope = replace(scope, rounds=resolve_rounds(uow, scope.rounds))
    if title is not None and len(title) > 300:
        raise InvalidFields({"title": "at most 300 characters"})
    row = Briefing(status="draft", period_start=scope.start, period_end=scope.end, rounds=list(scope.rounds),
                   unit_code=scope.unit, title=title, corrects_id=original.id if original else None,
                   created_by=actor.name, created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def _check_scope(uow: UnitOfWork, scope: Scope) -> None:
    problems = {}
    if scope.end < scope.start:
        problems["to"] = "the period ends before it starts"
    elif (scope.end - scope.start).days > MAX_DAYS:
        problems["to"] = f"a briefing covers at most {MAX_DAYS} days"
    if any(isinstance(r, str) and not 1 <= len(r.strip()) <= 100 for r in scope.rounds):
        problems["round"] = "a round is 1 to 100 characters"
    if scope.unit is not None and uow.session.scalar(sa.select(Unit.id).where(Unit.code == scope.unit)) is None:
        problems["unit"] = f"no unit with code {scope.unit!r}"
    if problems:
        raise InvalidFields(problems)


def resolve_rounds(uow: UnitOfWork, values) -> tuple[int | str, ...]:
    """The inspection rounds (engine/rounds.py) a briefing covers, by id: the briefing shows the findings linked
    to them. Only where the data has no round at all (findings kept before rounds existed, or imported from an
    office's ledger) is a value the free-text round name those findings carry (`inspection_round`)."""
    if not values:
        return ()
    session = uow.session
    if session.scalar(sa.select(InspectionRound.id).limit(1)) is None:
        return tuple(dict.fromkeys(str(v).strip() for v in values))
    ids, problems = [], []
    for value in values:
        text = str(value).strip()
        if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ROUND_ID:
            ids.append(int(text))
        else:
            problems.append(repr(text))
    known = set(session.scalars(sa.select(InspectionRound.id).where(InspectionRound.id.in_(ids)))) if ids else set()
    problems += [str(i) for i in ids if i not in known]
    if problems:
        raise InvalidFields({"round": f"no inspection round with id {', '.join(problems)} "
                                      "(a round is named by its id: GET /rounds lists them)"})
    return tuple(dict.fromkeys(ids))


def _require_reader(actor: Actor) -> None:
    # Briefings go to leaders and every centre; only the public channel has no business with them.
    if not set(actor.roles) - {"public"}:
        raise NotAllowed(f"{actor.name} may not read briefings")


def list_briefings(uow: UnitOfWork, actor: Actor, *, status: str | None = None) -> list[Briefing]:
    """Briefings, newest first; drafts only for those who draft them."""
    _require_reader(actor)
    query = sa.select(Briefing)
    if status is not None:
        query = query.where(Briefing.status == status)
    if not set(actor.roles) & set(DRAFTERS):
        query = query.where(Briefing.status == "published")
    return list(uow.session.scalars(query.order_by(Briefing.id.desc())))


def get_briefing(uow: UnitOfWork, actor: Actor, briefing_id: int) -> Briefing:
    _require_reader(actor)
    row = uow.session.get(Briefing, briefing_id)
    if row is None or (row.status != "published" and not set(actor.roles) & set(DRAFTERS)):
        raise NotFound("briefing", briefing_id)
    return row


def content(uow: UnitOfWork, actor: Actor, briefing_id: int, *, now: datetime | None = None) -> dict:
    """The content as published (frozen), or, for a draft, built from the data as it stands now."""
    row = get_briefing(uow, actor, briefing_id)
    if row.status == "published":
        return row.content
    return _build(uow, row, None, None, now or utcnow()).as_dict()


def _build(uow: UnitOfWork, row: Briefing, number: str | None, issued: date | None, now: datetime):
    corrected = uow.session.get(Briefing, row.corrects_id) if row.corrects_id else None
    scope = Scope(row.period_start, row.period_end, tuple(row.rounds or ()), row.unit_code)
    return build_content(uow, scope, number_text=number, issued=issued,
                         corrects=corrected.content["masthead"]["number_text"] if corrected else None, now=now)


def publish(uow: UnitOfWork, actor: Actor, briefing_id: int, renderers: Renderers, *,
            now: datetime | None = None) -> Briefing:
    """Give the draft the next number of its year, freeze its content and store its files with their sha256."""
    require_role(actor, PUBLISHERS, "publish briefings")
    session, now = uow.session, now or utcnow()
    query = sa.select(Briefing).where(Briefing.id == briefing_id)
    if uow.dialect == "postgresql":
        query = query.with_for_update()  # a second publish of the same draft waits, then sees it published
    row = session.scalars(query.execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("briefing", briefing_id)
    if row.status == "published":
        raise Conflict(f"briefing {briefing_id} is already published as "
                       f"{number_text(row.year, row.number)}; a published briefing never changes — "
                       "draft a correction (更正) instead")
    issued = now.astimezone(uow.calendar.zone).date()
    number = _take_number(uow, row, issued.year)
    text = number_text(issued.year, number)
    built = _build(uow, row, text, issued, now)
    # The publication is logged first, so the anchor the briefing prints covers its own publication too.
    audit.record_change(session, "briefings", "publish", actor, {"id": row.id, "number": text}, at=now)
    built.anchor = _anchor(uow, actor, now)
    frozen = built.as_dict()
    row.status, row.content, row.published_by, row.published_at = "published", frozen, actor.name, now
    docx = renderers.docx(frozen, photo_finder(uow))
    _store_file(uow, row, "docx", docx, now)
    if renderers.pdf is not None:
        _store_file(uow, row, "pdf", renderers.pdf(docx), now)
    session.flush()
    codes = [section.code for section in built.centres]
    units = tuple(session.scalars(sa.select(Unit.id).where(Unit.code.in_(codes)).order_by(Unit.id)))
    messagebus.publish(uow, BriefingPublished(text, built.masthead.series, units, actor, now))  # centres are told
    return row


def _anchor(uow: UnitOfWork, actor: Actor, now: datetime) -> dict:
    """The audit anchor the briefing pins ({digest, rows, chains, at}): recorded like `xuncha audit anchor`,
    so a printed briefing proves what the log held when it was published (`xuncha audit verify --anchor`)."""
    anchor = anchors.take(uow.session, actor.name, now)
    return {"digest": anchor.digest, "rows": anchor.rows, "chains": len(anchor.findings) + len(anchor.records),
            "at": now.astimezone(uow.calendar.zone).strftime("%Y-%m-%d %H:%M")}


def _take_number(uow: UnitOfWork, row: Briefing, year: int) -> int:
    """The next number of the year. Two publications racing both read the same maximum; the unique
    (year, number) constraint lets one win, and the other takes the following number in a fresh savepoint."""
    session = uow.session
    for _ in range(NUMBER_ATTEMPTS):
        number = (session.scalar(sa.select(sa.func.max(Briefing.number)).where(Briefing.year == year)) or 0) + 1
        try:
            with session.begin_nested():
                session.execute(sa.update(Briefing).where(Briefing.id == row.id).values(year=year, number=number))
        except sa.exc.IntegrityError:
            continue
        row.year, row.number = year, number
        return number
    raise Conflict("other briefings were being published at the same moment; publish again")


def _store_file(uow: UnitOfWork, row: Briefing, fmt: str, data: bytes, now: datetime) -> None:
    uow.session.add(BriefingFile(briefing_id=row.id, format=fmt, sha256=hashlib.sha256(data).hexdigest(),
                                 size=len(data), data=data, created_at=now))


def stored_file(uow: UnitOfWork, actor: Actor, briefing_id: int, fmt: str) -> BriefingFile | None:
    """The file a published briefing was frozen as, in `fmt`; None for a draft or a format not stored."""
    row = get_briefing(uow, actor, briefing_id)
    if row.status != "published":
        return None
    return uow.session.scalars(sa.select(BriefingFile).where(BriefingFile.briefing_id == row.id,
                                                             BriefingFile.format == fmt)
                               .options(sa.orm.undefer(BriefingFile.data))).first()


def files_of(uow: UnitOfWork, briefing_ids: list[int]) -> dict[int, dict[str, str]]:
    """{briefing id: {format: sha256}} of stored files."""
    out: dict[int, dict[str, str]] = {}
    if briefing_ids:
        for bid, fmt, sha in uow.session.execute(sa.select(BriefingFile.briefing_id, BriefingFile.format,
                                                           BriefingFile.sha256)
                                                 .where(BriefingFile.briefing_id.in_(briefing_ids))):
            out.setdefault(bid, {})[fmt] = sha
    return out


def photo_finder(uow: UnitOfWork) -> PhotoPath:
    """Where the content of an attachment is kept, by sha256 (None if the store has no such file)."""
    try:
        root = storage_dir(uow)
    except RuntimeError:
        return lambda _sha: None

    def find(sha: str) -> Path | None:
        path = path_for(root, sha)
        return path if path.is_file() else None

    return find
