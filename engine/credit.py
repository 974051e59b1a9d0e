"""两级巡查 credit: 自查自纠 (a centre found and fixed its own problem on time) and 漏查 (it looked and missed it)."""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.models import Check, Finding, Place
from engine.places import tree
from engine.places.config import loaded_config
from engine.unit_of_work import UnitOfWork
from workflows.places import PlaceConfig


@dataclass(frozen=True)
class Credit:
    self_corrected: int = 0
    self_correction_points: float = 0.0
    missed: int = 0
    missed_points: float = 0.0


def window_of(config: PlaceConfig) -> timedelta:
    window = config.credit["window"]
    return timedelta(**{window.unit.removeprefix("working_"): window.amount})


def credit_by_unit(uow: UnitOfWork, lo: datetime, hi: datetime, unit_ids: list[int]) -> dict[int, Credit]:
    """Per unit, for findings received in [lo, hi): how many it found and closed on time itself, how many it
    missed, and the points each earns under the places file's `credit` weights."""
    config = loaded_config(uow)
    if config is None:
        return {}
    session = uow.session
    own = session.execute(sa.select(Finding.unit_id, sa.func.count()).where(
        Finding.found_by == "centre", Finding.closed_on_time.is_(True), Finding.closed_at.is_not(None),
        Finding.created_at >= lo, Finding.created_at < hi, Finding.unit_id.in_(unit_ids)).group_by(Finding.unit_id))
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for unit_id, n in own:
        counts[unit_id][0] = n
    for finding in missed_findings(uow, config, lo, hi, unit_ids):
        counts[finding.unit_id][1] += 1
    w_self, w_missed = config.credit["self_corrected"], config.credit["missed"]
    return {unit_id: Credit(s, s * w_self, m, m * w_missed) for unit_id, (s, m) in counts.items()}


def missed_findings(uow: UnitOfWork, config: PlaceConfig, lo: datetime, hi: datetime,
                    unit_ids: list[int]) -> list[Finding]:
    """漏查: findings the department or the public reported in [lo, hi) at a place the centre's own rounds had
    checked as ok within the credit window before, or had not checked at all though a centre-level target
    covers the place's kind."""
    session, window = uow.session, window_of(config)
    found = list(session.scalars(sa.select(Finding).where(
        Finding.found_by.in_(("department", "public")), Finding.place_id.is_not(None),
        Finding.created_at >= lo, Finding.created_at < hi, Finding.unit_id.in_(unit_ids))))
    if not found:
        return []
    at_places = session.scalars(sa.select(Place).where(Place.id.in_({f.place_id for f in found})))
    places = {p.id: p for p in session.scalars(sa.select(Place).where(Place.id.in_(
        {i for p in at_places for i in tree.path_ids(p)})))}
    covers = {f.id: _service_place(config, places, f.place_id) for f in found}
    checks: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for covers_id, at, result in session.execute(
            sa.select(Check.covers_id, Check.at, Check.result).where(
                Check.level == "centre", Check.covers_id.in_(set(covers.values())),
                Check.at >= lo - window, Check.at < hi).order_by(Check.at)):
        checks[covers_id].append((at, result))
    required = {t.kind for t in config.targets if t.level == "centre"}
    out = []
    for f in found:
        seen = checks.get(covers[f.id], [])
        times = [at for at, _ in seen]
        recent = seen[bisect.bisect_left(times, f.created_at - window):bisect.bisect_left(times, f.created_at)]
        kind = places[covers[f.id]].kind
        if any(result == "ok" for _, result in recent) or (
                not recent and (kind in required or None in required) and config.kinds.get(kind)
                and config.kinds[kind].periods):
            out.append(f)
    return out


def _service_place(config: PlaceConfig, places: dict[int, Place], place_id: int) -> int:
    for ancestor in reversed(tree.path_ids(places[place_id])):
        kind = config.kinds.get(places[ancestor].kind) if ancestor in places else None
        if kind is not None and kind.periods:
            return ancestor
    return place_id
