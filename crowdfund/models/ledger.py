from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowdfund.db import Base, utcnow


class LedgerEntry(Base):
    """An append-only line of money movement: never updated, never deleted.

    Kinds: charge, fee, refund, match, payout. Amounts are signed integer cents: money the platform
    received is positive, money it returned or paid out is negative. Balances are sums."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_project_kind", "project_id", "kind"),
        Index("uq_ledger_entries_idempotency", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    pot_id: Mapped[int | None] = mapped_column(ForeignKey("matching_pots.id"), index=True)
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
