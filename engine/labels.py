"""Chinese names of the engine's codes (severity, source, sanction kind) for documents offices read."""
from __future__ import annotations

SEVERITY_ZH = {"low": "轻微", "normal": "一般", "high": "较重", "critical": "严重"}
SOURCE_ZH = {"department": "总务部巡查", "self_inspection": "中心自查", "public": "服务对象反映"}
SANCTION_KIND_ZH = {"criticism": "通报批评", "warning": "警告", "deduction": "扣分", "contract_penalty": "合同罚则"}


def code_for(labels: dict[str, str], text: str) -> str | None:
    """The code a label or the code itself names (case-insensitive for codes), or None."""
    text = text.strip()
    if text.lower() in labels:
        return text.lower()
    return next((code for code, label in labels.items() if label == text), None)
