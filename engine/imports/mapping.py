"""Which column holds what: Chinese header names by default, overridden by a small YAML mapping."""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from engine.errors import InvalidInput

# field: (header names accepted by default, required)
COLUMNS = {
    "title": (("问题描述", "问题", "存在问题"), True),
    "location": (("地点", "位置", "巡查地点"), True),
    "unit": (("责任单位", "整改单位"), True),
    "reported": (("发现日期", "发现时间", "巡查日期"), True),
    "state": (("状态", "整改状态"), True),
    "due": (("整改期限", "整改时限"), False),
    "reply": (("整改情况", "整改回复", "回复情况"), False),
    "category": (("类别", "问题类别"), False),
    "severity": (("严重程度",), False),
    "source": (("来源", "问题来源"), False),
    "round": (("巡查批次", "巡查轮次"), False),
    "description": (("详细情况", "问题详情"), False),
    "closed": (("结案日期", "销号日期", "结案时间"), False),
}
# What offices write in the 状态 column, besides a state's name or its label in the workflow.
STATE_WORDS = {"已整改": "closed", "已完成": "closed", "已销号": "closed", "已结案": "closed", "整改完成": "closed",
               "未整改": "rectifying", "正在整改": "rectifying", "待整改": "assigned", "督办": "escalated",
               "已归档": "archived", "不予受理": "dismissed", "待复查": "verifying", "新发现": "reported"}


@dataclass
class Mapping:
    columns: dict[str, tuple[str, ...]] = field(default_factory=lambda: {k: v[0] for k, v in COLUMNS.items()})
    states: dict[str, str] = field(default_factory=lambda: dict(STATE_WORDS))
    workflow: str = "finding"


def load_mapping(text: str | None) -> Mapping:
    """The default mapping, with `columns: {field: 表头}` and `states: {表中写法: state}` from YAML text."""
    mapping = Mapping()
    if not text:
        return mapping
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"mapping: 不是有效的 YAML（{exc}）") from None
    if not isinstance(data, dict) or set(data) - {"columns", "states", "workflow"}:
        raise InvalidInput("mapping: 只能包含 columns、states 和 workflow")
    for name, header in (data.get("columns") or {}).items():
        if name not in COLUMNS:
            raise InvalidInput(f"mapping: 未知字段 {name!r}，可用：{', '.join(COLUMNS)}")
        headers = header if isinstance(header, list) else [header]
        if not headers or not all(isinstance(h, str) and h.strip() for h in headers):
            raise InvalidInput(f"mapping: 字段 {name} 的表头必须是文字")
        mapping.columns[name] = tuple(h.strip() for h in headers)
    for word, state in (data.get("states") or {}).items():
        if not isinstance(state, str):
            raise InvalidInput(f"mapping: 状态 {word!r} 必须对应一个状态名")
        mapping.states[str(word).strip()] = state
    if "workflow" in data:
        mapping.workflow = str(data["workflow"])
    return mapping
