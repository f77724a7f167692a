from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
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
        Index("ix_projects_state_deadline", "state", "deadline"),
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
    cover_image: Mapped[str | None] = mapped_column(String(200))
    recipient_name: Mapped[str] = mapped_column(String(160), default="")
    recipient_address: Mapped[str] = mapped_column(Text, default="")
    recipient_tax_privileged: Mapped[bool] = mapped_column(default=False)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]

    contest: Mapped[Contest] = relationship()
    district: Mapped[District] = relationship()
    initiator: Mapped[User] = relationship()
    team: Mapped[list[TeamMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="TeamMember.position"
    )
    rewards: Mapped[list[Reward]] = relationship(  # noqa: F821
        back_populates="project", cascade="all, delete-orphan", order_by="Reward.min_amount_cents"
    )
    updates: Mapped[list[ProjectUpdate]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectUpdate.created_at.desc()"
    )


# Serves the public list's default order (newest: published_at DESC NULLS LAST, id DESC). SQLite cannot
# write NULLS LAST in an index, but its DESC already puts NULLs last: migration 0006_indexes creates
# (published_at DESC, id DESC) there, which autogenerate finds equal.
Index("ix_projects_newest", Project.published_at.desc().nulls_last(), Project.id.desc())


class TeamMember(Base):
    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)

    project: Mapped[Project] = relationship(back_populates="team")


class ProjectUpdate(Base):
    """A dated news post of a running campaign."""

    __tablename__ = "project_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="updates")
