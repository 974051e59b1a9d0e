"""Due-time durations as written in YAML: `72h`, `30m`, `2d`, `3 working days`, `3个工作日`, `24 hours on catering`."""
from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes", "分钟": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours", "小时": "hours",
    "d": "days", "day": "days", "days": "days", "天": "days",
}
_WORKING = {"hours": "working_hours", "days": "working_days"}
_PATTERN = re.compile(
    r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?:个)?\s*(?P<working>working\s+|工作)?\s*(?P<unit>[a-z]+|分钟|小时|天|日)"
    r"(?:\s+on\s+(?P<calendar>[a-z][a-z0-9_]*))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Duration:
    """An amount of calendar or working time; `unit` is minutes, hours, days, working_hours or working_days.

    `calendar` names the working calendar the time is counted on (None: the one the engine picks)."""

    amount: float
    unit: str
    calendar: str | None = None

    @property
    def working(self) -> bool:
        return self.unit.startswith("working_")

    def __str__(self) -> str:
        n = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{n} {self.unit.replace('_', ' ')}" + (f" on {self.calendar}" if self.calendar else "")


def parse_duration(text) -> Duration:
    """Parse a duration; raises ValueError naming the text when it is not one."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Duration(float(text), "hours")
    if not isinstance(text, str):
        raise ValueError(f"not a duration: {text!r}")
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try '72h', '3 working days', '2 working hours' "
                         "or '24 hours on catering')")
    raw_unit = match["unit"].lower()
    if raw_unit == "日":
        raw_unit = "天"
    unit = _UNITS.get(raw_unit)
    if unit is None:
        raise ValueError(f"unknown time unit {match['unit']!r} in {text!r}")
    amount = float(match["n"])
    if amount <= 0:
        raise ValueError(f"a duration must be positive: {text!r}")
    # Time counted on a named calendar is that calendar's working time: `24 hours on catering` is 24 service hours.
    if match["working"] or match["calendar"]:
        if unit not in _WORKING:
            raise ValueError(f"working time is counted in hours or days, not {unit}: {text!r}")
        unit = _WORKING[unit]
    return Duration(amount, unit, match["calendar"])
