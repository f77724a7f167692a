from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base
from crowdfund.models.projects import Project


class Reward(Base):
    """A thank-you for pledges of at least `min_amount_cents`; optionally limited in number."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("min_amount_cents >= 100", name="min_amount_at_least_one_euro"),
        CheckConstraint("quantity_total IS NULL OR quantity_total >= 0", name="quantity_non_negative"),
        CheckConstraint("quantity_claimed >= 0", name="claimed_non_negative"),
        CheckConstraint("quantity_total IS NULL OR quantity_claimed <= quantity_total", name="never_oversold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    min_amount_cents: Mapped[int]
    quantity_total: Mapped[int | None]
    quantity_claimed: Mapped[int] = mapped_column(default=0)
    delivery_estimate: Mapped[str] = mapped_column(String(7), default="")  # YYYY-MM

    project: Mapped[Project] = relationship(back_populates="rewards")

    @property
    def quantity_left(self) -> int | None:
        return None if self.quantity_total is None else self.quantity_total - self.quantity_claimed
