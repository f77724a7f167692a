from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base, utcnow
from crowdfund.models.contests import Contest, District
from crowdfund.models.users import User


class Project(Base):
    """A pitch for Kassel and, once approved and live, its crowdfunding campaign."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("threshold_cents > 0", name="threshold_positive"),
        CheckConstraint("goal_cents IS NULL OR goal_cents >= threshold_cents", name="goal_ge_threshold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    pitch: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    threshold_cents: Mapped[int]
    goal_cents: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    deadline: Mapped[datetime | None]
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()
    district: Mapped[District] = relationship()
    initiator: Mapped[User] = relationship()
