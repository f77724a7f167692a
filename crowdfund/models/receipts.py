"""Receipts (immutable numbered documents), their gap-free counters, and payouts to project recipients."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base, utcnow
from crowdfund.models.projects import Project


class ReceiptCounter(Base):
    """The last sequence number used by one issuer in one calendar year; locked while a number is taken."""

    __tablename__ = "receipt_counters"
    __table_args__ = (
        UniqueConstraint("issuer_key", "year"),
        CheckConstraint("last_sequence >= 0", name="sequence_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_key: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    last_sequence: Mapped[int] = mapped_column(default=0)


class Receipt(Base):
    """One issued document: numbered first (status `numbered`), then its PDF stored once (status `issued`).

    `source_key` names what the document is about (`pledge-<id>` for the payment document, `refund-<ledger
    entry id>` for a cancellation), so a pledge or a refund never gets two documents. `content` is the
    snapshot of everything the PDF shows, taken when the number was assigned: rendering again after a crash
    prints the same facts under the same number. The PDF bytes and their SHA-256 never change."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("issuer_key", "year", "sequence"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("amount_cents >= 0", name="amount_non_negative"),
        CheckConstraint("status IN ('numbered', 'issued')", name="status_known"),
        Index("ix_receipts_issue_date", "issue_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    issuer_key: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="numbered")
    source_key: Mapped[str] = mapped_column(String(60), unique=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    refund_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="de")
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    issue_date: Mapped[date]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None]
    numbered_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    retention_until: Mapped[date]
    last_error: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship()


class ReceiptAddress(Base):
    """The name and postal address a backer wants on receipts (a donation receipt needs them)."""

    __tablename__ = "receipt_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DonationProfile(Base):
    """A tax-privileged recipient's facts that the official donation receipt form asks for."""

    __tablename__ = "donation_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    purpose: Mapped[str] = mapped_column(Text)
    tax_office: Mapped[str] = mapped_column(String(120))
    tax_number: Mapped[str] = mapped_column(String(40))
    notice_date: Mapped[date]
    notice_kind: Mapped[str] = mapped_column(String(30), default="exemption_notice")
    assessment_period: Mapped[str] = mapped_column(String(160), default="")
    place: Mapped[str] = mapped_column(String(80), default="")
    signatory: Mapped[str] = mapped_column(String(160), default="")


class PayoutExport(Base):
    """One SEPA credit transfer file (pain.001) as it was handed out: stored so it can be fetched again."""

    __tablename__ = "payout_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    total_cents: Mapped[int]
    count: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payout(Base):
    """Money of a funded project to its recipient's account: requested -> approved -> exported.

    Approval writes the ledger's (negative) `payout` line; from then on refunds of the project are refused."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'approved', 'exported')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    recipient_name: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(20), default="requested")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    export_id: Mapped[int | None] = mapped_column(ForeignKey("payout_exports.id"), index=True)
    exported_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()
