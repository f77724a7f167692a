"""Outgoing mail through the outbox: every message is rendered, stored (committed) and only then sent.

`send_template` stores the message as an `OutboxMessage` and hands its delivery to the job queue (inline:
sent at once). Delivery goes by SMTP when MAIL_SERVER is set; otherwise each message becomes an .eml file
under MAIL_OUTBOX_DIR (development), and the log says where. A message that cannot be sent (OSError,
SMTPException) stays queued with its error and is retried with exponential backoff by the periodic
`retry_outbox` job; after MAIL_MAX_ATTEMPTS attempts it is marked failed, and admins see it at /admin/outbox.
Nothing of this ever raises into the request that wrote the mail.

A row is marked sent only after the SMTP server accepted the message; on PostgreSQL the row is locked
(SKIP LOCKED) while it is being sent, so two workers never send the same message."""

from __future__ import annotations

import itertools
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import Flask, current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crowdfund import jobs
from crowdfund.db import utcnow
from crowdfund.models.outbox import FAILED, QUEUED, SENT, OutboxMessage

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
RETRY_BATCH = 200  # messages one run of the retry job sends at most
DELIVERY_ERRORS = (OSError, smtplib.SMTPException)


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


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: int

    @classmethod
    def from_config(cls, config: dict) -> RetryPolicy:
        return cls(max(1, int(config["MAIL_MAX_ATTEMPTS"])), max(0, int(config["MAIL_RETRY_SECONDS"])))

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... at most 6 hours."""
        return timedelta(seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


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
        """Deliver `msg`; return where it went (an SMTP host or a file path). Raises OSError/SMTPException."""
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

    def send_raw(self, raw: bytes) -> str:
        """Deliver a stored message (its RFC 5322 bytes) exactly as it was rendered."""
        return self.send(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]

    def _write_eml(self, msg: EmailMessage) -> str:
        outbox = Path(self.settings.outbox_dir)
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(msg.as_bytes(policy=policy.SMTP))
        log.info("No MAIL_SERVER set: wrote mail %r to %s", msg["Subject"], path)
        return str(path)


def init_app(app: Flask) -> None:
    app.extensions["mailer"] = Mailer(MailSettings.from_config(app.config))


def mailer() -> Mailer:
    return current_app.extensions["mailer"]


# --- writing: render, store, hand over ---------------------------------------------------------------------
def render(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """Render `templates/mail/<template>.txt` (and `.html` if present) into a message to `to`."""
    text = render_template(f"mail/{template}.txt", **context)
    try:
        html: str | None = render_template(f"mail/{template}.html", **context)
    except TemplateNotFound:
        html = None
    return mailer().build(to, subject, text, html)


def store(session: Session, msg: EmailMessage, *, kind: str, reference: str | None = None) -> OutboxMessage:
    """Add `msg` to the outbox (flushed, not committed), due at once."""
    now = utcnow()
    row = OutboxMessage(kind=kind[:60], reference=(reference or None) and reference[:120], recipient=str(msg["To"]),
                        subject=str(msg["Subject"]), message=msg.as_bytes(policy=policy.SMTP), status=QUEUED,
                        attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Deferred:
    """A mail queued unrendered: `payload` (JSON) is turned into the message by the renderer registered for
    `kind`'s family at the first delivery attempt (see `register_renderer`)."""

    kind: str
    recipient: str
    subject: str
    payload: str
    reference: str | None = None


#: Renderers of deferred mail by `OutboxMessage.kind`: payload (JSON) -> message. Registered by the modules that
#: queue deferred mail (e.g. `crowdfund.payment_mail`), imported when the app is created.
_RENDERERS: dict[str, Callable[[str], EmailMessage]] = {}


def register_renderer(kinds: Iterable[str], renderer: Callable[[str], EmailMessage]) -> None:
    for kind in kinds:
        _RENDERERS[kind] = renderer


def store_deferred(session: Session, mails: list[Deferred]) -> int:
    """Queue many unrendered mails in one multi-row INSERT inside the caller's transaction (not committed);
    return how many. They are rendered and sent by the delivery jobs (`send_due`)."""
    if not mails:
        return 0
    unknown = {m.kind for m in mails} - _RENDERERS.keys()
    if unknown:
        raise ValueError(f"no renderer registered for mail kind(s) {sorted(unknown)}")
    now = utcnow()
    session.execute(insert(OutboxMessage), [
        {"kind": m.kind[:60], "reference": (m.reference or None) and m.reference[:120], "recipient": m.recipient,
         "subject": m.subject, "message": None, "payload": m.payload, "status": QUEUED, "attempts": 0,
         "next_attempt_at": now, "created_at": now} for m in mails])
    return len(mails)


def deliver_queued() -> None:
    """Hand the due outbox to the job queue: inline (no Redis) this sends it now; with Redis a worker does."""
    try:
        jobs.enqueue(retry_outbox, everything=True)
    except Exception:  # the rows are stored: the periodic retry job sends them
        log.exception("Could not hand the outbox to the job queue; the periodic retry job will send it")


def send_template(to: str, subject: str, template: str, *, reference: str | None = None,
                  **context: object) -> int:
    """Render the mail `template`, store it in the outbox (its own committed transaction, whatever the caller's
    session holds) and hand it to the job queue; return the outbox row's id.

    Never raises because of delivery: a message the SMTP server does not take now stays queued for retry."""
    msg = render(to, subject, template, **context)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db_sessionmaker"]() as session:
        message_id = store(session, msg, kind=template, reference=reference).id
        session.commit()
    hand_over(message_id)
    return message_id


def hand_over(message_id: int) -> None:
    """Enqueue the delivery of a stored message; if even that fails, the retry job will find the row."""
    try:
        jobs.enqueue(deliver_message, message_id)
    except Exception:  # the message is safely stored: the periodic retry job sends it later
        log.exception("Could not hand mail %s to the job queue; it stays queued for the retry job", message_id)


# --- sending: one attempt at a row ------------------------------------------------------------------------
def _permanent(exc: BaseException) -> bool:
    """True when the server refused every recipient for good (5xx): retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _msg in exc.recipients.values())
    return False


class RenderError(Exception):
    """A mail queued unrendered could not be rendered."""


def _render_deferred(row: OutboxMessage) -> None:
    """Render a row queued unrendered, once: its message (and final subject) are stored on the row."""
    renderer = _RENDERERS.get(row.kind)
    if renderer is None:
        raise LookupError(f"no renderer registered for mail kind {row.kind!r}")
    msg = renderer(row.payload or "")
    row.subject, row.message = str(msg["Subject"]), msg.as_bytes(policy=policy.SMTP)


def attempt(row: OutboxMessage, sender: Mailer, retry: RetryPolicy, now: datetime) -> bool:
    """Try to send a queued row once and record the outcome on it (the caller commits). True if sent.

    A row queued unrendered is rendered first; a rendering error counts as a failed attempt (kept, retried,
    shown to the admin), like a refusal by the mail server."""
    row.attempts += 1
    try:
        if row.message is None:
            try:
                _render_deferred(row)
            except Exception as exc:  # a template or payload fault: keep the row and say why
                raise RenderError(f"{type(exc).__name__}: {exc}") from exc
        assert row.message is not None
        where = sender.send_raw(row.message)
    except (*DELIVERY_ERRORS, RenderError) as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= retry.max_attempts or _permanent(exc):
            row.status, row.next_attempt_at = FAILED, None
            log.error("Mail %s to %s failed for good after %s attempt(s): %s", row.id, row.recipient, row.attempts,
                      row.last_error)
        else:
            row.next_attempt_at = now + retry.delay(row.attempts)
            log.warning("Mail %s to %s not sent (attempt %s), next attempt at %s: %s", row.id, row.recipient,
                        row.attempts, row.next_attempt_at.isoformat(timespec="seconds"), row.last_error)
        return False
    row.status, row.sent_at, row.next_attempt_at = SENT, now, None
    log.info("Mail %s (%s) to %s sent: %s", row.id, row.kind, row.recipient, where)
    return True


def _claim(session: Session, *conditions) -> OutboxMessage | None:
    """Lock and return the first queued row matching `conditions`; rows another worker holds are skipped."""
    stmt = (select(OutboxMessage).where(OutboxMessage.status == QUEUED, *conditions)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1).with_for_update(skip_locked=True))
    return session.scalars(stmt).first()


@jobs.job(retries=3, intervals=(30, 120, 600), timeout=120)
def deliver_message(message_id: int) -> str:
    """Job: send one stored message if it is still queued (idempotent: a sent or busy row is left alone)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.extensions["db_sessionmaker"]() as session:
        row = _claim(session, OutboxMessage.id == message_id)
        if row is None:
            return "not queued (already sent, failed, or being sent by another worker)"
        sent = attempt(row, mailer(), RetryPolicy.from_config(app.config), utcnow())
        session.commit()
        return "sent" if sent else f"not sent, attempt {row.attempts}"


def send_due(app: Flask, now: datetime | None = None, limit: int | None = RETRY_BATCH) -> tuple[int, int]:
    """Send queued messages whose next attempt is due (at most `limit`; None: until none is due), one row per
    transaction; return (sent, not sent). A row that fails is due again only later, so this always ends."""
    now = now or utcnow()
    retry, sender = RetryPolicy.from_config(app.config), app.extensions["mailer"]
    sent = failed = 0
    for _ in itertools.count() if limit is None else range(limit):
        with app.extensions["db_sessionmaker"]() as session:
            row = _claim(session, OutboxMessage.next_attempt_at <= now)
            if row is None:
                break
            ok = attempt(row, sender, retry, now)
            session.commit()
        sent, failed = sent + ok, failed + (not ok)
    return sent, failed


@jobs.job(retries=1, intervals=(60,), timeout=1800)
def retry_outbox(now: str | None = None, everything: bool = False) -> str:
    """Periodic job: send the outbox's due messages, RETRY_BATCH at most, or with `everything` all that are due
    (after settlement queued a mail per backer). `now`: ISO 8601, for tests; default the current time."""
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with jobs.exclusive("mail-outbox", ttl=1800) as mine:
        if not mine:
            return "skipped: another worker is sending the outbox"
        sent, failed = send_due(current_app._get_current_object(), moment,  # type: ignore[attr-defined]
                                None if everything else RETRY_BATCH)
    return f"{sent} sent, {failed} not sent"


# --- the admin's view and actions -----------------------------------------------------------------------
def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {QUEUED: 0, SENT: 0, FAILED: 0, **{status: count for status, count in rows}}


def requeue(session: Session, row: OutboxMessage, now: datetime) -> bool:
    """Make a queued or failed row due now (the caller commits, then hands it over). False if already sent."""
    if row.status == SENT:
        return False
    row.status, row.next_attempt_at = QUEUED, now
    return True
