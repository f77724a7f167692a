"""Outgoing mail: SMTP when MAIL_SERVER is set; otherwise each message becomes an .eml file
under MAIL_OUTBOX_DIR (development), and the log says where."""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import Flask, current_app, render_template
from jinja2 import TemplateNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str
    password: str
    use_tls: bool
    use_ssl: bool
    timeout: float
    sender: str
    outbox_dir: str

    @classmethod
    def from_config(cls, config: dict) -> MailSettings:
        return cls(
            server=config["MAIL_SERVER"],
            port=int(config["MAIL_PORT"]),
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=bool(config["MAIL_USE_TLS"]),
            use_ssl=bool(config["MAIL_USE_SSL"]),
            timeout=float(config["MAIL_TIMEOUT"]),
            sender=config["MAIL_DEFAULT_SENDER"],
            outbox_dir=config["MAIL_OUTBOX_DIR"],
        )


class Mailer:
    """Send `EmailMessage`s by SMTP, or write them to the outbox folder when no server is set."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def build(self, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="crowdfunding-kassel.de")
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        return msg

    def send(self, msg: EmailMessage) -> str:
        """Deliver `msg`; return where it went (an SMTP host or a file path)."""
        if not self.settings.server:
            return self._write_eml(msg)
        s = self.settings
        smtp_cls = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
        with smtp_cls(s.server, s.port, timeout=s.timeout) as smtp:
            if s.use_tls and not s.use_ssl:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(msg)
        return f"smtp://{s.server}:{s.port}"

    def _write_eml(self, msg: EmailMessage) -> str:
        outbox = Path(self.settings.outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(msg))
        log.info("No MAIL_SERVER set: wrote mail %r to %s", msg["Subject"], path)
        return str(path)


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = Mailer(MailSettings.from_config(app.config))


def mailer() -> Mailer:
    return current_app.extensions["mailer"]


def send_template(to: str, subject: str, template: str, **context: object) -> str:
    """Render `templates/mail/<template>.txt` (and `.html` if present) and send it."""
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html: str | None = render_template(f"mail/{template}.html", **context)
    except TemplateNotFound:
        html = None
    m = mailer()
    return m.send(m.build(to, subject, text, html))
