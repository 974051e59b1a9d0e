"""The engine's place, round, coverage and briefing messages read in Chinese on pages and in zh problem+json."""
from __future__ import annotations

import pytest

from web import zh


@pytest.mark.parametrize(("english", "chinese"), [
    ("no place with code 'NOPE'", "没有编码为 'NOPE' 的点位"),
    ("place 'C1-W1' is not among the places this round planned", "点位 'C1-W1' 不在本轮次计划巡查的范围内"),
    ("unknown kind 'castle'; configured: campus, area", "未知的点位类型 'castle'"),
    ("'C1' lies below 'C1-1F'; a place cannot be its own ancestor", "'C1' 位于 'C1-1F' 之下，点位不能成为自己的上级"),
    ("must be one of department, centre", "须为总务部督查或中心自查"),
    ("must be one of ok, findings", "须为以下之一：ok, findings"),
    ("finding 7 is at another place (D9)", "问题 7 在另一点位（D9）"),
    ("a briefing covers at most 1098 days", "一期简报最多覆盖 1098 天"),
    ("no inspection round with id 'x', 9 (a round is named by its id: GET /rounds lists them)",
     "没有编号为 'x', 9 的巡查轮次（请填轮次编号）"),
])
def test_messages(english, chinese):
    assert zh.message(english) == chinese
