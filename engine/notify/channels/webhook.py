"""A generic webhook for campus systems: the JSON body signed with HMAC-SHA-256, the message id in a header."""
from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import requests

from engine.notify.channels import Outcome, Outgoing
from engine.notify.routing import secret

SIGNATURE_HEADER = "X-Xuncha-Signature"  # sha256=<hex of HMAC-SHA-256(secret, body)>
ID_HEADER = "X-Xuncha-Message-Id"


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def body_of(message: Outgoing) -> bytes:
    return json.dumps({"id": message.message_id, "kind": message.kind, "subject": message.subject,
                       "text": message.body, "data": message.data}, ensure_ascii=False).encode("utf-8")


class WebhookChannel:
    def __init__(self, spec: dict, base: Path, timeout: float):
        self.url, self.key, self.timeout = secret(spec, "url", base), secret(spec, "secret", base) or "", timeout
        self.http = requests.Session()

    def send(self, message: Outgoing) -> Outcome:
        body = body_of(message)
        answer = self.http.post(self.url, data=body, timeout=self.timeout, headers={
            "Content-Type": "application/json; charset=utf-8", ID_HEADER: message.message_id,
            SIGNATURE_HEADER: signature(self.key, body)})
        if 200 <= answer.status_code < 300:
            return Outcome(True, answer.status_code)
        return Outcome(False, answer.status_code, answer.text[:300] or answer.reason)
