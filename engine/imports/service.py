"""`import_findings`: check every row of a sheet, then bring all of them in as findings, or none."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from engine import services
from engine.actors import Actor
from engine.db import utcnow
from engine.errors import DomainError, InvalidInput, NotAllowed, RowsRejected
from engine.imports.mapping import COLUMNS, Mapping
from engine.imports.sheet import Sheet, read_sheet
from engine.labels import SEVERITY_ZH, SOURCE_ZH, code_for
from engine.models import ImportedRow, Unit
from engine.unit_of_work import UnitOfWork

MAX_ROWS = 200_000
DEFAULT_CATEGORY = "其他"
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass
class ImportReport:
    file: str
    sha256: str
    rows: int = 0  # data rows in the sheet
    valid: int = 0
    already_imported: int = 0  # rows of this same file imported before: skipped
    imported: int = 0
    dry_run: bool = True
    errors: list[dict] = field(default_factory=list)  # {row, column, message}
    finding_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Row:
    number: int
    report: services.Report
    past: services.PastRecord


def import_findings(uow: UnitOfWork, actor: Actor, data: bytes, name: str, mapping: Mapping, *,
                    dry_run: bool = False, now: datetime | None = None) -> ImportReport:
    """Check every row; a dry run reports, a real run imports every row not imported before from this file,
    or — if any row is wrong — nothing at all (RowsRejected names each bad row)."""
    now = now or utcnow()
    if not set(services.IMPORTERS) & set(actor.roles):
        raise NotAllowed(f"{actor.name} may not import findings; it needs one of: "
                         f"{', '.join(services.IMPORTERS)}", services.IMPORTERS)
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(file=name, sha256=digest, dry_run=dry_run)
    sheet = read_sheet(data, name)
    if len(sheet.rows) > MAX_ROWS:
        raise InvalidInput(f"{name}: 最多导入 {MAX_ROWS} 行，本文件有 {len(sheet.rows)} 行")
    report.rows = len(sheet.rows)
    columns, missing = _locate(sheet, mapping)
    report.errors += missing
    done = set(uow.session.scalars(sa.select(ImportedRow.row).where(ImportedRow.file_sha256 == digest)))
    checker = _Checker(uow, mapping)
    parsed = []
    if not missing:
        for number, values in sheet.rows:
            row, problems = checker.check(number, {f: values[i] if i < len(values) else None
                                                   for f, i in columns.items()})
            report.errors += problems
            if row is not None:
                parsed.append(row)
    report.valid = len(parsed)
    fresh = [row for row in parsed if row.number not in done]
    report.already_imported = len(parsed) - len(fresh)
    if dry_run:
        return report
    if report.errors:
        raise RowsRejected(report.errors, f"{name}: {len(report.errors)} 处错误，未导入任何一行")
    for row in fresh:
        provenance = {"file": name, "file_sha256": digest, "row": row.number}
        try:
            finding = services.import_finding(uow, actor, row.report, row.past, provenance, now=now)
        except DomainError as exc:  # checked above; a rule of the workflow may still refuse
            raise RowsRejected([{"row": row.number, "column": "", "message": str(exc)}],
                               f"{name}: 第{row.number}行无法导入，未导入任何一行") from None
        uow.session.add(ImportedRow(file_sha256=digest, row=row.number, finding_id=finding.id, file_name=name[:255],
                                    imported_by=actor.name, imported_at=now))
        report.finding_ids.append(finding.id)
    uow.session.flush()
    report.imported = len(fresh)
    return report


def _locate(sheet: Sheet, mapping: Mapping) -> tuple[dict[str, int], list[dict]]:
    """Column index of each field the sheet has; a required one missing is an error of the header row."""
    where = {header: i for i, header in reversed(list(enumerate(sheet.headers)))}
    columns, missing = {}, []
    for name, (_, required) in COLUMNS.items():
        found = next((where[h] for h in mapping.columns[name] if h in where), None)
        if found is not None:
            columns[name] = found
        elif required:
            missing.append({"row": 1, "column": mapping.columns[name][0],
                            "message": f"缺少“{mapping.columns[name][0]}”列"})
    return columns, missing


class _Checker:
    def __init__(self, uow: UnitOfWork, mapping: Mapping):
        self.uow, self.mapping, self.zone = uow, mapping, uow.calendar.zone
        units = list(uow.session.execute(sa.select(Unit.code, Unit.name)))
        self.units = {code: code for code, _ in units}
        names: dict[str, list[str]] = {}
        for code, name in units:
            names.setdefault(name, []).append(code)
        self.unit_names = names
        _, self.workflow = uow.registry.active(uow.session, mapping.workflow)
        self.states = {name: name for name in self.workflow.states}
        for state in self.workflow.states.values():
            if state.label:
                self.states.setdefault(state.label.zh, state.name)
        for word, state in mapping.states.items():
            if state in self.workflow.states:
                self.states.setdefault(word, state)

    def check(self, number: int, cells: dict) -> tuple[_Row | None, list[dict]]:
        problems: list[dict] = []

        def bad(field_name: str, message: str) -> None:
            problems.append({"row": number, "column": self.mapping.columns[field_name][0], "message": message})

        text = {k: _text(v) for k, v in cells.items() if k not in ("reported", "due", "closed")}
        for name in ("title", "location", "unit", "state"):
            if not text.get(name):
                bad(name, "不能为空")
        unit = self._unit(text.get("unit"), bad)
        state = self.states.get(text.get("state") or "")
        if text.get("state") and state is None:
            bad("state", f"无法识别的状态“{text['state']}”，可用：{'、'.join(sorted(self.states))}")
        reported = self._moment(cells.get("reported"), "reported", bad, required=True)
        due = self._moment(cells.get("due"), "due", bad, end_of_day=True)
        closed = self._moment(cells.get("closed"), "closed", bad, end_of_day=False)
        severity = code_for(SEVERITY_ZH, text.get("severity") or "一般")
        if severity is None:
            bad("severity", f"无法识别的严重程度“{text['severity']}”，可用：{'、'.join(SEVERITY_ZH.values())}")
        source = code_for(SOURCE_ZH, text.get("source") or "总务部巡查")
        if source is None:
            bad("source", f"无法识别的来源“{text['source']}”，可用：{'、'.join(SOURCE_ZH.values())}")
        for name, limit in (("location", 300), ("category", 100), ("round", 100)):
            if len(text.get(name) or "") > limit:
                bad(name, f"不能超过{limit}个字")
        if problems:
            return None, problems
        title = text["title"]
        description = text.get("description") or (title if len(title) > 300 else "")
        report = services.Report(title=title[:300], category=text.get("category") or DEFAULT_CATEGORY,
                                 location=text["location"], unit=unit, source=source, severity=severity,
                                 description=description, inspection_round=text.get("round") or None,
                                 workflow=self.mapping.workflow)
        return _Row(number, report, services.PastRecord(state, reported, due, closed, text.get("reply") or None)), []

    def _unit(self, value: str | None, bad) -> str | None:
        if not value:
            return None
        if value in self.units:
            return value
        codes = self.unit_names.get(value, [])
        if len(codes) == 1:
            return codes[0]
        bad("unit", f"责任单位“{value}”有{len(codes)}个同名单位，请填写单位代码" if codes
            else f"没有名为或代码为“{value}”的单位")
        return None

    def _moment(self, value, name: str, bad, *, required: bool = False, end_of_day: bool = False):
        """A campus-local date or time; a bare date is the start of that day (a deadline: its end)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                bad(name, "不能为空")
            return None
        moment = _moment(value)
        if moment is None:
            bad(name, f"无法识别的日期“{_text(value)}”，请写作 2025-03-01 或 2025-03-01 09:30")
            return None
        if isinstance(moment, date) and not isinstance(moment, datetime):
            moment = datetime.combine(moment, time.min) + (timedelta(days=1, microseconds=-1) if end_of_day
                                                           else timedelta())
        if not 1990 <= moment.year <= 2100:
            bad(name, f"日期“{_text(value)}”超出合理范围")
            return None
        return moment.replace(tzinfo=self.zone) if moment.tzinfo is None else moment


def _moment(value) -> date | datetime | None:
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None  # a bare number is no date (calamine gives dates as dates)
    match = _DATE.match(_text(value) or "")
    if not match:
        return None
    y, m, d, hh, mm, ss = match.groups()
    try:
        if hh is None:
            return date(int(y), int(m), int(d))
        return datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss or 0))
    except ValueError:
        return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
