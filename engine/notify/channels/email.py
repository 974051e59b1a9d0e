"""Email over SMTP (STARTTLS, TLS or plain), Chinese subject and body, plain text with an HTML alternative."""
from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from engine.notify.channels import Outcome, Outgoing
from engine.notify.routing import secret

MESSAGE_DOMAIN = "xuncha"


def compose(message: Outgoing, sender: str) -> EmailMessage:
    """The email: UTF-8 subject and body; Message-ID is the stable message id, so a mail system drops repeats."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = message.address
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.message_id}@{MESSAGE_DOMAIN}>"
    mail.set_content(message.body, charset="utf-8")
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in message.body.split("\n\n"))
    mail.add_alternative(f'<!doctype html><html><head><meta charset="utf-8"></head><body>'
                         f"<h3>{html.escape(message.subject)}</h3>{paragraphs}</body></html>", subtype="html",
                         charset="utf-8")
    return mail


class EmailChannel:
    def __init__(self, spec: dict, base: Path, timeout: float):
        self.host, self.port = spec["host"], int(spec.get("port") or 0)
        self.security = spec.get("security", "starttls")
        self.user, self.sender, self.timeout = spec.get("user"), spec["from"], timeout
        self.password = secret(spec, "password", base)
        self.verify, self.ca_file = spec.get("verify", True), spec.get("ca_file")

    def send(self, message: Outgoing) -> Outcome:
        if not message.address:
            return Outcome(False, error="no email address")
        context = ssl.create_default_context(cafile=self.ca_file)  # ca_file: a campus CA the system lacks
        if not self.verify:  # a campus relay with a self-signed certificate, explicitly allowed
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port or 465, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port or 587, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            refused = smtp.send_message(compose(message, self.sender))
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, exc.smtp_code, str(exc.smtp_error, "utf-8", "replace"))
        finally:
            try:
                smtp.quit()
            except smtplib.SMTPException:
                smtp.close()
        if refused:
            return Outcome(False, error=f"refused: {refused}")
        return Outcome(True, 250)
