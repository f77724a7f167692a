"""The mail outbox: every outgoing message is stored (rendered, RFC 5322) before it is sent, so a message that
cannot be delivered now is retried later and never lost; admins see it at /admin/outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowdfund.db import Base, utcnow

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"  # failed permanently: no more automatic attempts (an admin may retry)
STATUSES = (QUEUED, SENT, FAILED)


class OutboxMessage(Base):
    """One outgoing mail. `queued` rows are (re)tried from `next_attempt_at` on; a row becomes `sent` only
    after the SMTP server accepted it (or the .eml file was written), `failed` after the last attempt."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("message IS NOT NULL OR payload IS NOT NULL", name="message_or_payload"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # the template: password_reset, pledge_confirmed, ...
    reference: Mapped[str | None] = mapped_column(String(120))  # what it is about, e.g. "pledge:42"
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    # The full rendered message (RFC 5322, CRLF). A mail queued in bulk (settlement) is stored unrendered as a
    # JSON `payload` and rendered at its first delivery attempt, so queueing it costs one row in a multi-row INSERT.
    message: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
