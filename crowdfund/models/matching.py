from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base, utcnow


class MatchingPot(Base):
    """Money from organisers or sponsors that tops up pledges under caps and a total budget."""

    __tablename__ = "matching_pots"
    __table_args__ = (
        CheckConstraint("budget_cents >= 0", name="budget_non_negative"),
        CheckConstraint("ratio_percent > 0", name="ratio_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_name: Mapped[str] = mapped_column(String(160))
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contests.id"))
    budget_cents: Mapped[int]
    ratio_percent: Mapped[int] = mapped_column(default=100)  # 100 = 1:1
    cap_per_pledge_cents: Mapped[int | None]
    cap_per_backer_cents: Mapped[int | None]
    cap_per_project_cents: Mapped[int | None]
    district_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every district
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every category
    counts_toward_threshold: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(Base):
    """The pot's top-up of one pledge: reserved, then realised (funded and paid) or released."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    pot_id: Mapped[int] = mapped_column(ForeignKey("matching_pots.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="reserved")  # reserved|realised|released
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    pot: Mapped[MatchingPot] = relationship()
