"""How pages show things: campus local time, time left, Chinese labels of states, events, roles and values."""
from __future__ import annotations

from datetime import datetime

from engine.db import utcnow
from web import zh
from web.context import store
from workflows.model import Transition, Workflow

SOURCES = {"department": "总务部巡查", "self_inspection": "中心自查", "public": "服务对象反映"}
SEVERITIES = {"low": "轻微", "normal": "一般", "high": "较重", "critical": "严重"}
# Choice values the shipped workflow uses; a value not listed shows as written in the YAML.
CHOICES = {"pass": "通过", "fail": "不通过", "criticism": "通报批评", "warning": "警告", "deduction": "扣分",
           "contract_penalty": "合同罚则"}
ENGINE_EVENTS = {"report": "上报", "migrate": "流程版本迁移", "sanction_recorded": "追责记录",
                 "rate": "服务对象评价"}
PAYLOAD_KEYS = {"from_version": "原版本", "to_version": "新版本", "mapping": "状态对应", "rule": "触发规则",
                "kind": "处理方式", "points": "扣分", "amount": "罚款金额（元）", "contract": "合同编号",
                "decision": "处理决定", "satisfaction": "满意度（1-5）"}


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(store().calendar.zone).strftime(fmt)


def time_left(due: datetime | None, now: datetime | None = None) -> str:
    """"剩余 2天3小时" or "已超期 5小时" (elapsed time, as the deadline is a moment)."""
    if due is None:
        return ""
    seconds = (due - (now or utcnow())).total_seconds()
    text = _span(abs(seconds))
    return f"剩余 {text}" if seconds >= 0 else f"已超期 {text}"


def _span(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{rest // 60}分"
    return f"{max(rest // 60, 1)}分钟"


def state_label(workflow: Workflow, name: str | None) -> str:
    if name is None:
        return ""
    state = workflow.states.get(name)
    return state.label.zh if state else name


def role_label(workflow: Workflow, name: str) -> str:
    role = workflow.roles.get(name)
    return role.label.zh if role else name


def event_label(workflow: Workflow, event: str, from_state: str | None = None, to_state: str | None = None) -> str:
    """The label of the transition that did this (the one matching source and destination when several share it)."""
    if event in ENGINE_EVENTS:
        return ENGINE_EVENTS[event]
    matches = [t for t in workflow.transitions if t.event == event]
    exact = [t for t in matches if (from_state in t.sources and t.dest == to_state)]
    chosen = (exact or matches)
    return chosen[0].label.zh if chosen else event


def event_button(workflow: Workflow, state: str, event: str) -> str:
    """One button per event: labels of several transitions sharing it (复查通过 / 复查未通过) are joined."""
    labels = list(dict.fromkeys(t.label.zh for t in workflow.outgoing(state, event)))
    return " / ".join(labels) or event


def transition_for(workflow: Workflow, event: str) -> Transition | None:
    found = [t for t in workflow.transitions if t.event == event]
    return found[0] if found else None


def payload_rows(workflow: Workflow, event: str, payload: dict) -> list[tuple[str, str]]:
    """The payload as (Chinese label, shown value) pairs, in the order the YAML declares the fields."""
    transition = transition_for(workflow, event)
    order = [f.name for f in transition.fields] if transition else []
    keys = sorted(payload, key=lambda k: (order.index(k) if k in order else len(order), k))
    rows = []
    for key in keys:
        label = zh.field_label(key, transition) if transition and key in order else PAYLOAD_KEYS.get(key, key)
        kind = next((f.type for f in transition.fields if f.name == key), None) if transition else None
        value = f"{len(payload[key])} 个附件（见照片与附件）" if kind == "attachments" and isinstance(
            payload[key], list) else show_value(payload[key])
        rows.append((label, value))
    return rows


def show_value(value) -> str:
    if isinstance(value, list):
        return "、".join(show_value(v) for v in value)
    if isinstance(value, dict):
        return "，".join(f"{k}→{v}" for k, v in value.items())
    if isinstance(value, str):
        return CHOICES.get(value, value)
    return str(value)


def field_label(name: str, transition: Transition | None = None) -> str:
    return zh.field_label(name, transition)


FILTERS = {
    "localtime": localtime, "time_left": time_left, "source_zh": lambda v: SOURCES.get(v, v),
    "severity_zh": lambda v: SEVERITIES.get(v, v), "choice_zh": lambda v: CHOICES.get(v, v),
    "is_late": lambda due: due is not None and due < utcnow(),
}
