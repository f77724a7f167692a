from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowdfund.db import Base, utcnow


class District(Base):
    """One of Kassel's 23 districts (Stadtteile)."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Contest(Base):
    """A yearly contest with its phase windows (all UTC)."""

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    submission_start: Mapped[datetime]
    submission_end: Mapped[datetime]
    review_end: Mapped[datetime]
    funding_start: Mapped[datetime]
    funding_end: Mapped[datetime]
    jury_end: Mapped[datetime]
    results_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
