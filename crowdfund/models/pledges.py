from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base, utcnow
from crowdfund.domain.pledges import CHANGEABLE, COUNTING
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User

# Pledges in these states count toward a campaign's total and backer count.
COUNTING_STATUSES = tuple(sorted(COUNTING))
# A backer has at most one pledge in these states per project (pending_setup, active).
OPEN_STATUSES = tuple(sorted(CHANGEABLE))
ONE_OPEN_PLEDGE_INDEX = "uq_pledges_one_open_per_backer"


class Pledge(Base):
    """A backer's promise to pay if the campaign reaches its threshold."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= paid_cents", name="refund_within_paid"),
        Index("ix_pledges_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(30), default="pending_setup")
    anonymous: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    # Provider references (the payment method is saved by a SetupIntent, charged at settlement)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    setup_intent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_method_id: Mapped[str | None] = mapped_column(String(64))
    payment_method_type: Mapped[str | None] = mapped_column(String(20))
    payment_intent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    paid_cents: Mapped[int] = mapped_column(default=0)
    refunded_cents: Mapped[int] = mapped_column(default=0)
    action_required_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    project: Mapped[Project] = relationship()
    backer: Mapped[User] = relationship()
    reward: Mapped[Reward | None] = relationship()


# One open pledge per backer and project: the service checks it under the backer's row lock; this partial
# unique index backs the rule in the database (migration 0006_indexes).
_open = Pledge.status.in_(OPEN_STATUSES)
Index(ONE_OPEN_PLEDGE_INDEX, Pledge.project_id, Pledge.backer_id, unique=True,
      postgresql_where=_open, sqlite_where=_open)
