"""The building a free-text location lies in, for Chinese addresses, which have no spaces between their parts."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from workflows.rules import DEFAULT_BUILDING_PATTERNS, DEFAULT_SEPARATORS

_SPACE = re.compile(r"\s+")


def normalise(location: str) -> str:
    """NFKC (full-width digits, letters and spaces become ASCII), white space removed: '９号楼　3层' -> '9号楼3层'."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", location or ""))


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p) for p in patterns)


def building_of(location: str, patterns: tuple[str, ...] = DEFAULT_BUILDING_PATTERNS,
                separators: str = DEFAULT_SEPARATORS) -> str:
    """The building: the start of the location the first matching pattern takes ('学生公寓9号楼3层' -> '学生公寓9号楼',
    '第一食堂后厨' -> '第一食堂', '图书馆3楼' -> '图书馆'); with no match, the text before the first separator."""
    text = normalise(location)
    for pattern in _compiled(tuple(patterns)):
        found = pattern.match(text)
        if found and found.end() > 0:
            return found.group(0)
    plain = unicodedata.normalize("NFKC", location or "").strip()
    cut = min((i for i in (plain.find(s) for s in separators) if i > 0), default=len(plain))
    return normalise(plain[:cut]) or text


def same_place_text(location: str, other: str, rule: dict) -> bool:
    """Whether two free-text locations are the same place under a rule's `same` (location | building)."""
    if rule.get("same", "location") != "building":
        return normalise(location) == normalise(other)
    patterns = tuple(rule.get("building") or DEFAULT_BUILDING_PATTERNS)
    separators = (rule.get("separators") or DEFAULT_SEPARATORS) + (rule.get("separator") or "")
    return building_of(location, patterns, separators) == building_of(other, patterns, separators)
