"""Group robots: WeCom (企业微信) and DingTalk (钉钉, signed with its secret) webhooks, markdown messages."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from pathlib import Path

import requests

from engine.notify.channels import Outcome, Outgoing
from engine.notify.routing import secret

WECOM_MAX = 4096  # bytes of markdown content a WeCom robot accepts


def markdown(message: Outgoing) -> str:
    lines = message.body.split("\n")
    return f"**{message.subject}**\n\n" + "\n".join(lines) + f"\n\n> 消息编号 {message.message_id}"


def _clip(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit - 3].decode("utf-8", "ignore") + "…"


class _Robot:
    def __init__(self, spec: dict, base: Path, timeout: float):
        self.url, self.timeout = secret(spec, "url", base), timeout
        self.http = requests.Session()

    def _post(self, url: str, payload: dict) -> Outcome:
        answer = self.http.post(url, json=payload, timeout=self.timeout)
        if not 200 <= answer.status_code < 300:
            return Outcome(False, answer.status_code, answer.text[:300] or answer.reason)
        try:
            reply = answer.json()
        except ValueError:
            return Outcome(False, answer.status_code, f"not JSON: {answer.text[:200]}")
        code = reply.get("errcode", 0)  # both robots answer HTTP 200 and say what went wrong here
        if code != 0:
            return Outcome(False, code, str(reply.get("errmsg", ""))[:300])
        return Outcome(True, answer.status_code)


class WeComChannel(_Robot):
    """企业微信群机器人: POST {"msgtype": "markdown", "markdown": {"content": …}} to its webhook URL."""

    def send(self, message: Outgoing) -> Outcome:
        return self._post(self.url, {"msgtype": "markdown",
                                     "markdown": {"content": _clip(markdown(message), WECOM_MAX)}})


def dingtalk_sign(key: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64 of HMAC-SHA256 over "timestamp\\nsecret" keyed by the secret, URL-encoded."""
    digest = hmac.new(key.encode("utf-8"), f"{timestamp_ms}\n{key}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalkChannel(_Robot):
    """钉钉群机器人 with 加签: timestamp and sign go in the query string."""

    def __init__(self, spec: dict, base: Path, timeout: float):
        super().__init__(spec, base, timeout)
        self.key = secret(spec, "secret", base)

    def send(self, message: Outgoing) -> Outcome:
        url = self.url
        if self.key:
            stamp = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={dingtalk_sign(self.key, stamp)}"
        return self._post(url, {"msgtype": "markdown",
                                "markdown": {"title": message.subject, "text": markdown(message)}})
