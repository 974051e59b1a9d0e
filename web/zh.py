"""Chinese for what the engine says in English: error titles and field messages, for pages and problem+json."""
from __future__ import annotations

import re

from flask import request

from workflows.model import Transition

TITLES = {
    "Not found": "未找到", "Not allowed": "无权操作", "Missing fields": "缺少必填项", "Invalid fields": "填写有误",
    "Refused by the workflow's rule": "不符合流程规则", "Event not possible in this state": "当前状态不能执行此操作",
    "Version conflict": "问题已被他人更新", "Invalid input": "输入有误", "Workflow rejected": "流程定义有误",
    "Attachment too large": "附件过大", "Request refused": "请求被拒绝", "Invalid request": "请求有误",
    "Authentication required": "请先登录", "Invalid token": "令牌无效", "Conflict": "与当前记录冲突",
}
# Field names the engine reports outside any transition (reports, users, units, periods).
FIELD_NAMES = {
    "title": "标题", "category": "类别", "location": "地点", "unit": "责任单位", "source": "来源",
    "severity": "严重程度", "inspection_round": "巡查轮次", "description": "描述", "file": "文件",
    "name": "名称", "code": "代码", "role": "角色", "parent": "上级单位", "password": "密码", "old": "当前密码",
    "new": "新密码", "day": "日期", "note": "备注", "from": "开始日期", "to": "结束日期", "sort": "排序",
    "active": "状态", "workflow": "流程", "findings": "问题",
    "name_zh": "名称", "name_en": "英文名称", "kind": "类型", "place": "点位", "places": "点位", "subtree": "点位",
    "plan": "巡查范围", "target": "巡查范围", "level": "层级", "inspectors": "巡查人员", "planned_start": "计划开始",
    "planned_end": "计划结束", "at": "检查时间", "result": "检查结果", "round": "巡查轮次", "rounds": "巡查轮次",
    "corrects": "更正期号", "status": "状态",
}
_PATTERNS = [
    (r"required", "必填"),
    (r"required, at most (\d+) characters", r"必填，最多 \1 个字"),
    (r"at most (\d+) characters", r"最多 \1 个字"),
    (r"at least (\d+) characters", r"至少 \1 个字符"),
    (r"must be one of department, centre", "须为总务部督查或中心自查"),
    (r"must be one of (.+)", r"须为以下之一：\1"),
    (r"must be a number", "须为数字"),
    (r"must be at least (.+)", r"不得小于 \1"),
    (r"must be at most (.+)", r"不得大于 \1"),
    (r"must be a number from (\S+) to (\S+)", r"须为 \1 到 \2 之间的数字"),
    (r"must be a date as YYYY-MM-DD", "须为日期（年-月-日）"),
    (r"must be text", "须为文字"),
    (r"must be a list of attachment ids", "须为附件"),
    (r"unknown field for event .*", "此操作没有这一项"),
    (r"no attachment\(s\) (.+?)( on this finding)?", r"附件 \1 不存在"),
    (r"no unit with code (.+)", r"没有代码为 \1 的单位"),
    (r"unit (.+) exists already", r"单位 \1 已存在"),
    (r"user (.+) exists already", r"用户 \1 已存在"),
    (r"at least one role", "至少选择一个角色"),
    (r"unknown role\(s\) (.+?)(;.*)?", r"未知角色 \1"),
    (r"the current password is wrong", "当前密码不正确"),
    (r"the period ends before it starts", "结束日期早于开始日期"),
    (r"a (\S+) report has source 'public'", "服务对象只能以“服务对象反映”为来源上报"),
    (r"(.+) is closed already; remove it first to change it", r"\1 已是闭校日；如需更改请先取消"),
    (r"(.+) is an open day already; remove it first to change it", r"\1 已是调休上班日；如需更改请先取消"),
    (r"(.+) is closed already", r"\1 已是闭校日"),
    (r"(.+) is not a date as YYYY-MM-DD", r"\1 不是日期（年-月-日）"),
    (r"expected a date as YYYY-MM-DD", "须为日期（年-月-日）"),
    (r"you cannot disable yourself or drop your own administrator role", "不能停用自己或取消自己的管理员角色"),
    (r"the file is empty", "文件为空"),
    (r"larger than the limit of (\d+) bytes", r"超过 \1 字节的上限"),
    (r"type (.+) is not accepted; .*", r"不接受 \1 类型的文件（仅限图片、PDF、Word、Excel）"),
    (r"content is not (.+)", r"文件内容与类型 \1 不符"),
    (r"a file name of 1 to 255 characters is required", "文件名须为 1 到 255 个字"),
    # places, rounds, coverage and briefings
    (r"letters, digits, '\.', '_' or '-', at most 64, starting with a letter or digit",
     "只能用字母、数字及 . _ -，最多 64 位，以字母或数字开头"),
    (r"place (.+) exists already", r"点位 \1 已存在"),
    (r"unknown kind (.+?)(; configured: .*)?", r"未知的点位类型 \1"),
    (r"no place with code (.+)", r"没有编码为 \1 的点位"),
    (r"(.+) lies below (.+); a place cannot be its own ancestor", r"\1 位于 \2 之下，点位不能成为自己的上级"),
    (r"place (.+) is deactivated", r"点位 \1 已停用"),
    (r"place (.+) has no responsible unit; name one", r"点位 \1 没有责任单位，请选择责任单位"),
    (r"place (.+) is not among the places this round planned", r"点位 \1 不在本轮次计划巡查的范围内"),
    (r"place (.+) is another unit's; a self-inspection checks its own places",
     r"点位 \1 属于其他单位；中心自查只检查本单位的点位"),
    (r"a centre's self-inspection names the unit inspecting itself", "中心自查须选择自查的单位"),
    (r"the round ends before it starts", "结束时间早于开始时间"),
    (r"plan a list of places, a subtree or a kind, not several", "巡查范围只能选一种"),
    (r"no user\(s\) (.+)", r"没有用户 \1"),
    (r"a check cannot lie in the future", "检查时间不能晚于现在"),
    (r"name the findings reported at this check", "请勾选此次检查发现的问题（须先在本轮次上报）"),
    (r"a check with findings has result 'findings'", "勾选了问题时，检查结果须为“发现问题”"),
    (r"no finding (\d+)", r"问题 \1 不存在"),
    (r"finding (\d+) was reported in another round", r"问题 \1 属于其他轮次"),
    (r"finding (\d+) belongs to another check already", r"问题 \1 已归入另一次检查"),
    (r"finding (\d+) is at another place \((.+)\)", r"问题 \1 在另一点位（\2）"),
    (r"round (\d+) is (\S+), not in progress", r"巡查轮次 \1 不在进行中"),
    (r"a finding of a (\S+) round has source (.+)", "此轮次的问题来源由轮次层级决定"),
    (r"at most (\d+) days at a time", r"一次最多 \1 天"),
    (r"a briefing covers at most (\d+) days", r"一期简报最多覆盖 \1 天"),
    (r"a round is 1 to 100 characters", "每个轮次名称 1 到 100 个字"),
    (r"no inspection round with id (.+?) \(a round is named by its id.*", r"没有编号为 \1 的巡查轮次（请填轮次编号）"),
    (r"PDF needs LibreOffice on the server.*", "生成 PDF 需要服务器安装 LibreOffice；请下载 Word 文件或在网页中阅读"),
]
_COMPILED = [(re.compile(p + r"\Z", re.S), r) for p, r in _PATTERNS]


def message(text: str) -> str:
    """One engine message in Chinese; one not known stays as it is (a Chinese reason passes through)."""
    for pattern, replacement in _COMPILED:
        match = pattern.match(text)
        if match:
            return match.expand(replacement)
    return text


def title(text: str) -> str:
    return TITLES.get(text, text)


def field_errors(fields: dict[str, str]) -> dict[str, str]:
    return {name: message(str(msg)) for name, msg in fields.items()}


def field_label(name: str, transition: Transition | None = None) -> str:
    """The Chinese label of a field: the transition's YAML label when it has one."""
    if transition is not None:
        for spec in transition.fields:
            if spec.name == name and spec.label:
                return spec.label.zh
    return FIELD_NAMES.get(name, name)


def summary(fields: dict[str, str], transition: Transition | None = None) -> str:
    return "；".join(f"{field_label(k, transition)}：{message(str(v))}" for k, v in fields.items())


def wants_chinese() -> bool:
    """True when the caller's Accept-Language prefers Chinese to English."""
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"], default="en")
    return best.startswith("zh")


def detail(exc) -> str:
    """A domain error's whole message in Chinese."""
    fields = getattr(exc, "fields", None)
    if fields:
        return summary(fields)
    if getattr(exc, "reason", None):
        return exc.reason
    kind = type(exc).__name__
    if kind == "NotFound":
        return f"未找到{_WHAT.get(exc.what, exc.what)} {exc.key}"
    if kind == "NotAllowed":
        needed = "、".join(exc.roles_needed)
        return "您无权执行此操作" + (f"（需要角色：{needed}）" if needed else "")
    if kind == "InvalidEvent":
        return f"问题当前状态（{exc.state}）不能执行“{exc.event}”；可执行：{'、'.join(exc.allowed) or '无'}"
    if kind == "VersionConflict":
        return f"问题已被他人更新（您看到的是第 {exc.expected} 版，现在是第 {exc.actual} 版），您的操作未执行"
    if kind == "WorkflowRejected":
        return f"流程定义有 {len(exc.problems)} 处问题，未保存"
    return message(str(exc))


_WHAT = {"finding": "问题", "unit": "单位", "user": "用户", "workflow": "流程", "attachment": "附件",
         "workflow version": "流程版本", "closed day": "闭校日", "sanction": "追责记录", "commendation": "表扬记录",
         "place": "点位", "round": "巡查轮次", "briefing": "简报", "notification": "消息"}
