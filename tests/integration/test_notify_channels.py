"""Channels against real servers on loopback: an SMTP server (aiosmtpd) and a webhook receiver."""
from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import subprocess
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from receiver import Receiver

from engine.notify.channels import Outgoing, build
from engine.notify.channels.webhook import ID_HEADER, SIGNATURE_HEADER

MESSAGE = Outgoing("0b9f5f4e-1d1c-5a6e-9a53-3f7b2c1d0e42", "overdue", "【督办】#12 学生公寓9号楼3层东侧卫生间漏水",
                   "巡查问题 #12「卫生间漏水」已超过整改期限，系统自动督办。\n地点：学生公寓9号楼\n\n"
                   "Finding #12 was escalated.",
                   "宿管科 <dorm@example.edu.cn>", {"finding": {"id": 12, "title": "卫生间漏水"}})


class Inbox:
    def __init__(self):
        self.messages, self.envelopes = [], []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, trusted by the channel through its ca_file."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


def _smtp(inbox, **kwargs):
    with socket.socket() as probe:  # a free port (aiosmtpd does not report the one it got for port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def test_email_arrives_intact_in_chinese_over_starttls_with_login(tmp_path, certificate, monkeypatch):
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox()
    controller = _smtp(inbox, tls_context=context, require_starttls=True, authenticator=authenticator)
    monkeypatch.setenv("XUNCHA_TEST_SMTP_PASSWORD", "s3cret")
    try:
        channel = build({"type": "email", "host": "127.0.0.1", "port": controller.port, "security": "starttls",
                         "user": "xuncha", "password_env": "XUNCHA_TEST_SMTP_PASSWORD", "ca_file": str(cert),
                         "from": "巡查系统 <xuncha@example.edu.cn>"}, tmp_path, 10)
        outcome = channel.send(MESSAGE)
    finally:
        controller.stop()
    assert outcome.ok, outcome
    assert logins == [(b"xuncha", b"s3cret")]
    mail = inbox.messages[0]
    assert mail["Subject"] == MESSAGE.subject
    assert mail["Message-ID"] == f"<{MESSAGE.message_id}@xuncha>"
    assert mail["To"].addresses[0].display_name == "宿管科"
    assert mail["From"].addresses[0].display_name == "巡查系统"
    assert mail.get_body(("plain",)).get_content().rstrip("\n") == MESSAGE.body
    html = mail.get_body(("html",)).get_content()
    assert "学生公寓9号楼3层东侧卫生间漏水" in html and "<p>" in html
    assert inbox.envelopes[0].rcpt_tos == ["dorm@example.edu.cn"]


def test_email_to_a_server_that_is_not_there_fails_quickly(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = build({"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
                     "from": "xuncha@example.edu.cn"}, tmp_path, 2)
    with pytest.raises(ConnectionRefusedError):  # the deliverer records it as a failed attempt
        channel.send(MESSAGE)


def test_wecom_robot_gets_markdown_in_chinese(tmp_path):
    with Receiver() as server:
        channel = build({"type": "wecom", "url": f"{server.url}/cgi-bin/webhook/send?key=abc"}, tmp_path, 5)
        outcome = channel.send(MESSAGE)
    assert outcome.ok
    sent = server.received[0]
    assert sent.path == "/cgi-bin/webhook/send" and sent.query == {"key": ["abc"]}
    body = sent.json()
    assert body["msgtype"] == "markdown"
    assert MESSAGE.subject in body["markdown"]["content"] and "系统自动督办" in body["markdown"]["content"]
    assert MESSAGE.message_id in body["markdown"]["content"]


def test_dingtalk_robot_request_is_signed_as_dingtalk_documents(tmp_path):
    secret = "SEC1234567890abcdef"
    with Receiver() as server:
        outcome = build({"type": "dingtalk", "url": f"{server.url}/robot/send?access_token=tok",
                         "secret": secret}, tmp_path, 5).send(MESSAGE)
    assert outcome.ok
    sent = server.received[0]
    stamp, sign = sent.query["timestamp"][0], sent.query["sign"][0]  # parse_qs has undone the URL encoding
    expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert sign == expected.decode()
    assert sent.query["access_token"] == ["tok"]
    body = sent.json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == MESSAGE.subject
    assert "卫生间漏水" in body["markdown"]["text"]


def test_robot_errcode_is_a_failure_even_with_http_200(tmp_path):
    with Receiver(reply={"errcode": 310000, "errmsg": "sign not match"}) as server:
        outcome = build({"type": "dingtalk", "url": f"{server.url}/robot/send?access_token=t", "secret": "x"},
                        tmp_path, 5).send(MESSAGE)
    assert (outcome.ok, outcome.code, outcome.error) == (False, 310000, "sign not match")


def test_generic_webhook_body_carries_the_id_and_is_signed(tmp_path):
    (tmp_path / "bus.key").write_text("campus-bus-key\n", encoding="utf-8")
    with Receiver() as server:
        outcome = build({"type": "webhook", "url": f"{server.url}/xuncha", "secret_file": "bus.key"},
                        tmp_path, 5).send(MESSAGE)
    assert outcome.ok and outcome.code == 200
    sent = server.received[0]
    assert sent.headers[ID_HEADER] == MESSAGE.message_id
    digest = hmac.new(b"campus-bus-key", sent.body, hashlib.sha256).hexdigest()
    assert sent.headers[SIGNATURE_HEADER] == f"sha256={digest}"
    body = sent.json()
    assert (body["id"], body["kind"], body["subject"]) == (MESSAGE.message_id, "overdue", MESSAGE.subject)
    assert body["data"]["finding"]["title"] == "卫生间漏水"
    assert "卫生间漏水".encode() in sent.body  # UTF-8 on the wire, not \\u escapes


def test_webhook_server_error_is_a_failure_with_its_status(tmp_path):
    with Receiver(answers=[503]) as server:
        outcome = build({"type": "webhook", "url": server.url, "secret": "k"}, tmp_path, 5).send(MESSAGE)
    assert not outcome.ok and outcome.code == 503
