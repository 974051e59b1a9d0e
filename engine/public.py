"""公众参与: reports sent from a place's QR code, followed and rated by the anonymous reporter's receipt code."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa

from engine import attachments, audit, services
from engine.actors import Actor, actor_for
from engine.db import dialect_insert, utcnow
from engine.errors import InvalidFields, InvalidInput, NotFound
from engine.models import AuditEntry, Finding, Place, PublicReport, User
from engine.places import tree
from engine.places.config import current_config
from engine.unit_of_work import UnitOfWork
from workflows.places import DEFAULT_CATEGORIES

# No 0/O or 1/I/L: a code is read off a phone screen and typed back. 31^12 ≈ 8·10^17 codes: not guessable,
# least of all at the rate the public pages allow.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 12
# Anonymous reports are the reports of one account with the `public` role (scope `own`), which never signs in:
# it has neither token nor password. Its name appears as the reporter; nothing names the person.
PUBLIC_ACCOUNT = "public.qr"
CONTACT_ROLES = ("inspector", "admin")  # who may read a reporter's contact; never the unit concerned
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
MAX_PHOTOS = 3
PHOTO_MAX_BYTES = 8 * 1024 * 1024
MAX_DESCRIPTION, MAX_CONTACT = 2000, 100
RATINGS = range(1, 6)
RATE_EVENT = "rate"  # 服务对象评价: a row of the finding's chain that moves no state

# What the reporter reads: the workflow's states, folded into four plain steps.
STATUS_LABELS = {"received": "受理中", "rectifying": "整改中", "rectified": "已整改", "dismissed": "不予受理"}


@dataclass(frozen=True)
class PublicPlace:
    code: str
    name: str  # the full name, 学生公寓9号楼 3层 东侧卫生间


@dataclass(frozen=True)
class Submission:
    """What the QR page's form says."""

    place: str
    category: str
    description: str
    contact: str = ""


@dataclass(frozen=True)
class Photo:
    name: str
    content_type: str
    stream: BinaryIO


@dataclass(frozen=True)
class Receipt:
    """A public report as its reporter may see it: no names, actors, units' replies or other findings."""

    code: str
    place: str
    category: str
    description: str
    reported_at: datetime
    status: str  # received | rectifying | rectified | dismissed
    reason: str | None  # why it was not accepted
    accepted_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rated_at: datetime | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def may_rate(self) -> bool:
        return self.status == "rectified" and self.rating is None


def categories(uow: UnitOfWork) -> list[str]:
    """The categories the QR page offers (places file, `public.categories`)."""
    return list(current_config(uow).public["categories"])


def suggested_categories(uow: UnitOfWork) -> list[str]:
    """The categories the report form suggests: the configured ones, or the shipped list before a places file
    is loaded (staff may still type another; the public may not)."""
    try:
        return categories(uow)
    except InvalidInput:
        return list(DEFAULT_CATEGORIES)


def public_place(uow: UnitOfWork, code: str) -> PublicPlace:
    """An active place a QR code may lead to; any other code is not found."""
    place = uow.session.scalar(sa.select(Place).where(Place.code == code, Place.active.is_(True)))
    if place is None:
        raise NotFound("place", code)
    return PublicPlace(place.code, tree.full_name(uow.session, current_config(uow), place))


def submit(uow: UnitOfWork, submission: Submission, photos: list[Photo] = (), *,
           now: datetime | None = None) -> PublicReport:
    """Report a problem seen at a place: a finding with source `public` for the place's unit, through the same
    path as every report (`services.report_finding`), its photos re-encoded without EXIF, and a receipt code."""
    now = now or utcnow()
    place = public_place(uow, submission.place)
    _check(uow, submission, photos)
    actor = public_actor(uow, now)
    description = submission.description.strip()
    report = services.Report(title=_title(submission.category, description), category=submission.category,
                             location="", unit="", source="public", description=description, place=place.code)
    finding = services.report_finding(uow, actor, report, now=now)
    for photo in photos:
        try:
            attachments.add_attachment(uow, finding.id, actor, name=photo.name, content_type=photo.content_type,
                                       stream=photo.stream, max_bytes=PHOTO_MAX_BYTES)
        except InvalidFields as exc:
            raise InvalidFields({"photos": exc.fields.get("file", str(exc))}) from None
    row = PublicReport(finding_id=finding.id, receipt=new_receipt(), contact=submission.contact.strip() or None,
                       created_at=now)
    uow.session.add(row)
    audit.record_row(uow.session, "report", actor, row, at=now)
    return row


def _check(uow: UnitOfWork, submission: Submission, photos) -> None:
    problems = {}
    if submission.category not in categories(uow):
        problems["category"] = "required" if not submission.category else "请从列表中选择类别"
    description = submission.description.strip()
    if not description:
        problems["description"] = "required"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = f"at most {MAX_DESCRIPTION} characters"
    if len(submission.contact.strip()) > MAX_CONTACT:
        problems["contact"] = f"at most {MAX_CONTACT} characters"
    if len(photos) > MAX_PHOTOS:
        problems["photos"] = f"最多 {MAX_PHOTOS} 张照片"
    elif any((p.content_type or "").split(";")[0].strip().lower() not in PHOTO_TYPES for p in photos):
        problems["photos"] = "只接受 JPEG、PNG、WebP 或 HEIC 格式的照片"
    if problems:
        raise InvalidFields(problems)


def _title(category: str, description: str) -> str:
    first = description.splitlines()[0] if description else ""
    return f"{category}：{first[:60]}{'…' if len(first) > 60 else ''}"


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normal_receipt(code: str) -> str:
    """A code as typed back: case, spaces and dashes do not matter."""
    return "".join(code.split()).replace("-", "").upper()[:32]


def public_actor(uow: UnitOfWork, now: datetime | None = None) -> Actor:
    """The account anonymous reports are made under, created (and audited) on first use.

    Two first reports at once both insert; the database keeps one and the other reads it back."""
    session = uow.session
    user = session.scalar(sa.select(User).where(User.name == PUBLIC_ACCOUNT))
    if user is None:
        insert = dialect_insert(session)(User.__table__).values(
            name=PUBLIC_ACCOUNT, display_name="扫码反映（匿名）", roles=["public"], active=True,
            failed_logins=0, created_at=now or utcnow())
        created = session.execute(insert.on_conflict_do_nothing().returning(User.__table__.c.id)).first()
        user = session.scalar(sa.select(User).where(User.name == PUBLIC_ACCOUNT))
        if created is not None:
            audit.record_row(session, "create", "system", user)
    return actor_for(session, user)


def receipt(uow: UnitOfWork, code: str) -> Receipt:
    """The progress of the public report with this receipt code; an unknown code is not found."""
    session = uow.session
    found = session.execute(sa.select(PublicReport, Finding).join(Finding, Finding.id == PublicReport.finding_id)
                            .where(PublicReport.receipt == normal_receipt(code))).first()
    if found is None:
        raise NotFound("receipt", code)
    row, finding = found
    workflow = uow.registry.get(session, finding.workflow_name, finding.workflow_version)
    status = progress(workflow, finding)
    entries = list(session.execute(sa.select(AuditEntry.from_state, AuditEntry.to_state, AuditEntry.at,
                                              AuditEntry.payload, AuditEntry.comment)
                                   .where(AuditEntry.finding_id == finding.id).order_by(AuditEntry.seq)))
    accepted = next((e.at for e in entries if e.from_state == workflow.initial and e.to_state != e.from_state
                     and not workflow.states[e.to_state].final), None)
    reason = None
    if status == "dismissed":
        last = next((e for e in reversed(entries) if e.to_state == finding.state and e.from_state != e.to_state),
                    None)
        reason = ((last.payload or {}).get("reason") or last.comment or None) if last else None
    place = session.get(Place, finding.place_id) if finding.place_id else None
    name = tree.full_name(session, current_config(uow), place) if place else finding.location
    return Receipt(row.receipt, name, finding.category, finding.description, finding.created_at, status, reason,
                   accepted, finding.closed_at if status == "rectified" else None, row.rating, row.rated_at)


def progress(workflow, finding: Finding) -> str:
    """受理中 in the initial state, 已整改 once closed (archived after closing too), 不予受理 when it ended
    without closing, 整改中 in between."""
    state = workflow.states[finding.state]
    if state.closed or (state.final and finding.closed_on_time is not None):
        return "rectified"
    if state.final:
        return "dismissed"
    return "received" if finding.state == workflow.initial else "rectifying"


def rate(uow: UnitOfWork, code: str, stars: int, *, now: datetime | None = None) -> Receipt:
    """Record the reporter's 满意度 (1-5) with a closed report, once; it is logged in the finding's chain."""
    now = now or utcnow()
    if stars not in RATINGS:
        raise InvalidFields({"rating": "请选择 1 到 5 星"})
    current = receipt(uow, code)
    if not current.may_rate:
        raise InvalidInput("已经评价过，不能重复评价" if current.rating is not None else "问题整改完成后才能评价")
    row = uow.session.scalar(sa.select(PublicReport).where(PublicReport.receipt == current.code))
    done = uow.session.execute(sa.update(PublicReport).where(PublicReport.id == row.id,
                                                             PublicReport.rating.is_(None))
                               .values(rating=stars, rated_at=now))
    if done.rowcount != 1:  # a second submission raced this one and won
        raise InvalidInput("已经评价过，不能重复评价")
    actor = public_actor(uow, now)
    finding = services.load_finding(uow, row.finding_id, actor, for_update=True)
    services.record_event(uow, finding, RATE_EVENT, actor, "public", {"satisfaction": stars}, now=now)
    uow.session.refresh(row)
    audit.record_row(uow.session, "rate", actor, row, at=now)  # the rating counts in the unit's scorecard
    return receipt(uow, code)


def contact_for(uow: UnitOfWork, actor: Actor, finding_id: int) -> str | None:
    """The public reporter's contact, for inspectors and administrators only (None for everyone else)."""
    if not set(CONTACT_ROLES) & set(actor.roles):
        return None
    return uow.session.scalar(sa.select(PublicReport.contact).where(PublicReport.finding_id == finding_id))


def satisfaction_by_unit(uow: UnitOfWork, lo: datetime, hi: datetime, unit_ids: list[int]) -> dict[int, tuple]:
    """Per unit, for public reports received in [lo, hi) and rated: (number of ratings, sum of stars)."""
    query = (sa.select(Finding.unit_id, sa.func.count(), sa.func.sum(PublicReport.rating))
             .join(Finding, Finding.id == PublicReport.finding_id)
             .where(PublicReport.rating.is_not(None), Finding.created_at >= lo, Finding.created_at < hi,
                    Finding.unit_id.in_(unit_ids)).group_by(Finding.unit_id))
    return {unit_id: (n, int(total or 0)) for unit_id, n, total in uow.session.execute(query)}


def subtree_places(uow: UnitOfWork, code: str) -> list[PublicPlace]:
    """The active places of a subtree in tree order, each with its full name: what a print sheet of QR codes
    labels. The names come from one read of the subtree and its ancestors."""
    session, config = uow.session, current_config(uow)
    root = tree.by_code(session, code)
    below = list(session.scalars(sa.select(Place).where(tree.in_subtree(root)).order_by(Place.path)))
    known = {p.id: p for p in below}
    for ancestor in session.scalars(sa.select(Place).where(Place.id.in_(tree.path_ids(root)))):
        known[ancestor.id] = ancestor
    out = []
    for place in below:
        if not place.active:
            continue
        ids = tree.path_ids(place)
        names = [known[i].name_zh for i in ids
                 if i in known and (i == place.id or tree.tier_depth(config, known[i].kind) > 0)]
        out.append(PublicPlace(place.code, "".join(names)))
    return out
