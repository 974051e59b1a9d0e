"""Channels: small adapters behind one interface, `send(message) -> Outcome`, built from the notifications file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sees it."""

    message_id: str
    kind: str
    subject: str
    body: str
    address: str | None = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None = None  # the other side's answer: HTTP status, SMTP reply code, a robot's errcode
    error: str | None = None


class Channel(Protocol):
    def send(self, message: Outgoing) -> Outcome: ...


def build(spec: dict, base: Path, timeout: float) -> Channel:
    """The channel a `channels:` entry of the notifications file describes."""
    from engine.notify.channels import email, file, robots, webhook

    kind = spec["type"]
    if kind == "email":
        return email.EmailChannel(spec, base, timeout)
    if kind == "wecom":
        return robots.WeComChannel(spec, base, timeout)
    if kind == "dingtalk":
        return robots.DingTalkChannel(spec, base, timeout)
    if kind == "webhook":
        return webhook.WebhookChannel(spec, base, timeout)
    return file.FileChannel(spec, base)
