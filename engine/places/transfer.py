"""Import and export of the place registry: every row checked first, then all stored or nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from engine import audit
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import RowsRejected
from engine.models import Place, Unit
from engine.places import sheets, tree
from engine.places.config import current_config
from engine.places.registry import CODE, require_writer, tier_problem
from engine.unit_of_work import UnitOfWork

TRUE = {"", "1", "是", "启用", "有效", "true", "yes", "y", "t"}
FALSE = {"0", "否", "停用", "无效", "false", "no", "n", "f"}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)  # {row, column, message}; nothing stored if any


def import_places(uow: UnitOfWork, actor: Actor, name: str, data: bytes, *, dry_run: bool = False,
                  now: datetime | None = None) -> ImportReport:
    """Create or update the places of a file, keyed by code; a parent may be defined further down the file.

    With bad rows nothing is stored: a dry run reports them, a real run raises RowsRejected naming them."""
    require_writer(actor)
    session, config, now = uow.session, current_config(uow), now or utcnow()
    headers, rows = sheets.read_rows(name, data)
    report = ImportReport(rows=len(rows))

    def bad(row: int, column: str, message: str) -> None:
        report.problems.append({"row": row, "column": headers.get(column, sheets.HEADERS_ZH[column]),
                                "message": message})

    units = dict(session.execute(sa.select(Unit.code, Unit.id)).all())
    existing = {p.code: p for p in session.scalars(sa.select(Place))}
    by_id = {p.id: p for p in existing.values()}
    wanted: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for number, values in rows:
        code = values["code"]
        if not code:
            bad(number, "code", "编码不能为空")
            continue
        if not CODE.match(code):
            bad(number, "code", f"编码“{code}”只能由字母、数字、点、下划线和连字符组成，至多64个字符")
            continue
        if code in first_row:
            bad(number, "code", f"编码“{code}”与第{first_row[code]}行重复")
            continue
        first_row[code] = number
        row = {"row": number, "name_zh": values["name_zh"], "name_en": values.get("name_en") or None,
               "parent": values.get("parent") or None}
        if not row["name_zh"]:
            bad(number, "name_zh", "名称不能为空")
        elif len(row["name_zh"]) > 200:
            bad(number, "name_zh", "名称至多200个字符")
        row["kind"] = config.kind_named(values["kind"])
        if row["kind"] is None:
            shown = "、".join(k.label.zh for k in config.kinds.values())
            bad(number, "kind", f"类型“{values['kind']}”未配置（可选：{shown}）" if values["kind"] else "类型不能为空")
        unit = values.get("unit") or ""
        row["unit_id"] = units.get(unit) if unit else None
        row["problems_unit"] = bool(unit and row["unit_id"] is None)
        if row["problems_unit"]:
            bad(number, "unit", f"责任单位“{unit}”不存在")
        active = (values.get("active") or "").strip().lower()
        if active not in TRUE | FALSE:
            bad(number, "active", f"“{values['active']}”无法识别，请填写“是”或“否”")
        row["active"] = active not in FALSE
        wanted[code] = row
    # Parents: in the file (anywhere) or stored; the resulting tree must have no cycle and respect the tiers.
    parent_of = {code: (by_id[p.parent_id].code if p.parent_id in by_id else None) for code, p in existing.items()}
    parent_of.update({code: row["parent"] for code, row in wanted.items()})
    kind_of = {code: p.kind for code, p in existing.items()}
    kind_of.update({code: row["kind"] for code, row in wanted.items()})
    for code, row in wanted.items():
        parent = row["parent"]
        if parent is None:
            continue
        if parent not in parent_of:
            bad(row["row"], "parent", f"上级编码“{parent}”既不在文件中，也不在场所库中")
        elif _cycle(code, parent_of):
            bad(row["row"], "parent", f"上级编码“{parent}”使场所形成循环（场所不能是自己的上级）")
        elif row["kind"] and kind_of.get(parent):
            problem = tier_problem(config, row["kind"], kind_of[parent])
            if problem:
                bad(row["row"], "parent", problem)
    for code, row in wanted.items():  # a blank unit is the parent's, as when an administrator adds a place
        if not row["problems_unit"] and row["unit_id"] is None:
            row["unit_id"] = _inherited_unit(code, wanted, existing, parent_of)
    report.problems.sort(key=lambda p: p["row"])
    if report.problems:
        if dry_run:
            return report
        raise RowsRejected(report.problems)
    _apply(uow, actor, name, wanted, existing, report, now, dry_run)
    return report


def _inherited_unit(code: str, wanted: dict, existing: dict, parent_of: dict) -> int | None:
    seen, current = {code}, parent_of.get(code)
    while current is not None and current not in seen:
        seen.add(current)
        if current in wanted and wanted[current]["unit_id"] is not None:
            return wanted[current]["unit_id"]
        if current not in wanted and current in existing and existing[current].unit_id is not None:
            return existing[current].unit_id
        current = parent_of.get(current)
    return None


def _cycle(code: str, parent_of: dict[str, str | None]) -> bool:
    seen, current = {code}, parent_of.get(code)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def _apply(uow: UnitOfWork, actor: Actor, file: str, wanted: dict, existing: dict, report: ImportReport, now: datetime,
           dry_run: bool) -> None:
    session, changed = uow.session, {}  # code → "create" | "update", for the places chain
    for code, row in wanted.items():
        values = {"name_zh": row["name_zh"], "name_en": row["name_en"], "kind": row["kind"],
                  "unit_id": row["unit_id"], "active": row["active"]}
        place = existing.get(code)
        if place is None:
            report.created += 1
            if not dry_run:
                place = Place(code=code, path="/", created_at=now, updated_at=now, **values)
                session.add(place)
                existing[code] = place
                changed[code] = "create"
            continue
        current_parent = session.get(Place, place.parent_id).code if place.parent_id else None
        if all(getattr(place, k) == v for k, v in values.items()) and current_parent == row["parent"]:
            report.unchanged += 1
            continue
        report.updated += 1
        if not dry_run:
            for key, value in values.items():
                setattr(place, key, value)
            place.updated_at = now
            changed[code] = "update"
    if dry_run:
        return
    session.flush()
    for code, row in wanted.items():
        parent = existing[row["parent"]] if row["parent"] else None
        existing[code].parent_id = parent.id if parent else None
    session.flush()
    _repath(uow)
    for code, event in changed.items():
        audit.record_row(session, event, actor, existing[code], extra={"file": file}, at=now)


def _repath(uow: UnitOfWork) -> None:
    """Recompute every place's path from the parent links (an import may move whole branches)."""
    session = uow.session
    places = list(session.scalars(sa.select(Place)))
    parents = {p.id: p.parent_id for p in places}
    paths: dict[int, str] = {}

    def path(place_id: int) -> str:
        if place_id not in paths:
            parent = parents[place_id]
            paths[place_id] = f"{path(parent) if parent else '/'}{tree.segment(place_id)}"
        return paths[place_id]

    for place in places:
        new = path(place.id)
        if place.path != new:
            place.path = new
    session.flush()


def export_rows(uow: UnitOfWork) -> list[dict]:
    """Every place in tree order, as the import reads it back."""
    session = uow.session
    parent = sa.orm.aliased(Place)
    query = (sa.select(Place, parent.code, Unit.code).outerjoin(parent, Place.parent_id == parent.id)
             .outerjoin(Unit, Place.unit_id == Unit.id).order_by(Place.path))
    return [{"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en or "", "kind": p.kind,
             "parent": parent_code or "", "unit": unit_code or "", "active": "是" if p.active else "否"}
            for p, parent_code, unit_code in session.execute(query)]
