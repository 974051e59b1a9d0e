"""The plain data of a briefing: sections a renderer (docx, html) lays out; JSON-ready via `as_dict`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Masthead:
    department: str  # the issuing department (总务部)
    series: str  # 巡查简报
    number_text: str | None  # 2026年第12期; None while a draft
    date_text: str | None  # the day of publication, 2026年3月31日
    period_text: str  # 2026年3月1日至3月31日
    corrects: str | None = None  # 更正: the number of the briefing this one corrects


@dataclass
class UnitLine:
    """One unit's (or all units') results for the findings of the briefing: counts and the three rates."""

    code: str
    name: str
    received: int
    due_to_close: int
    closed: int
    closed_on_time: int
    open: int
    open_overdue: int
    not_fixed: int  # 查而不改
    closure_rate: float  # 结案率
    on_time_rate: float  # 按期结案率
    rework_rate: float  # 返工率


@dataclass
class Count:
    name: str
    count: int


@dataclass
class Summary:
    total: UnitLine
    units: list[UnitLine]
    categories: list[Count]
    severities: list[Count]
    sources: list[Count]
    previous: dict | None = None  # the previous published briefing: its number and totals
    change: dict | None = None  # received and rates against it (rates in percentage points)


@dataclass
class Photo:
    attachment_id: int
    sha256: str
    name: str
    content_type: str


@dataclass
class Item:
    """One finding as a briefing shows it."""

    id: int
    title: str
    location: str
    category: str
    severity: str
    unit: str  # the unit responsible (a section of a centre may hold its sub-units' findings)
    state: str
    state_label: str
    closed: bool
    reported_at: str  # campus local time
    deadline: str | None
    reply: str | None  # the centre's latest answer (its rectification note, or its plan)
    before: Photo | None = None
    after: Photo | None = None  # only where closed


@dataclass
class CentreSection:
    code: str
    name: str
    items: list[Item]


@dataclass
class Highlight:
    """屡查屡犯 / 屡改屡犯 / 查而不改: the findings of one recurrence class, with how often it recurred."""

    kind: str
    label: str
    items: list[dict]  # {id, title, location, unit, count}


@dataclass
class RecordLine:
    unit: str
    kind: str
    text: str
    points: float
    at: str


@dataclass
class BriefingContent:
    masthead: Masthead
    summary: Summary
    centres: list[CentreSection]
    highlights: list[Highlight]
    sanctions: list[RecordLine]
    commendations: list[RecordLine]
    # Optional sections, rendered when present: coverage of places and rounds ({title, headers, rows, notes})
    # and the audit anchor taken at publication ({digest, rows, chains, at}).
    coverage: dict | None = None
    anchor: dict | None = None
    finding_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)
