from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowdfund.db import Base, utcnow
from crowdfund.models.contests import Contest
from crowdfund.models.projects import Project
from crowdfund.models.users import User


class JuryConfig(Base):
    """A contest's jury: its phase, the final-ranking rule, the prize pot and the crowd index settings.

    Weights and shares are decimal text ("0.6"), never floats. The decision is the jury's recorded final
    order of project ids; `tie_vote` the order of a jury vote used as the last tie-break."""

    __tablename__ = "jury_configs"
    __table_args__ = (
        CheckConstraint("prize_pot_cents >= 0", name="pot_non_negative"),
        CheckConstraint("prize_places >= 0", name="places_non_negative"),
        CheckConstraint("crowd_min_pledge_cents >= 0", name="crowd_min_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), unique=True)
    phase: Mapped[str] = mapped_column(String(20), default="conflicts")
    ranking_rule: Mapped[str] = mapped_column(String(20), default="weighted")  # weighted | preselect
    jury_weight: Mapped[str] = mapped_column(String(20), default="0.5")
    preselect_top_n: Mapped[int] = mapped_column(default=5)
    prize_pot_cents: Mapped[int] = mapped_column(default=0)
    prize_places: Mapped[int] = mapped_column(default=5)
    prize_mode: Mapped[str] = mapped_column(String(20), default="proportional")  # fixed | proportional
    prize_fixed_cents: Mapped[list[int]] = mapped_column(JSON, default=list)
    crowd_min_pledge_cents: Mapped[int] = mapped_column(default=500)
    jurors_per_entry: Mapped[int | None]  # None: the whole panel scores every entry
    disagreement_points: Mapped[int] = mapped_column(default=15)  # spread (std, 0..100) that flags an entry
    tie_vote: Mapped[list[int]] = mapped_column(JSON, default=list)
    decision: Mapped[list[int] | None] = mapped_column(JSON)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()


class JuryMember(Base):
    __tablename__ = "jury_members"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class JuryCriterion(Base):
    """A scoring criterion: weight (decimal text), an integer scale and labelled anchors {"1": "weak"}."""

    __tablename__ = "jury_criteria"
    __table_args__ = (CheckConstraint("scale_max > scale_min", name="scale_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[str] = mapped_column(String(20), default="1")
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=10)
    anchors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)


class JuryConflict(Base):
    """A conflict of interest of a juror with an entry, declared by the juror or added by an admin."""

    __tablename__ = "jury_conflicts"
    __table_args__ = (UniqueConstraint("juror_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    juror: Mapped[User] = relationship(foreign_keys=[juror_id])
    project: Mapped[Project] = relationship()


class JuryAssignment(Base):
    __tablename__ = "jury_assignments"
    __table_args__ = (UniqueConstraint("juror_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)


class Scorecard(Base):
    """One juror's scores for one entry: {criterion id (text): integer score}, a comment, draft or submitted."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("juror_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | submitted
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    juror: Mapped[User] = relationship()


class JuryComment(Base):
    """A juror's contribution to the discussion of one entry."""

    __tablename__ = "jury_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class CrowdSnapshot(Base):
    """An entry's crowd index frozen at the deadline; written once, never updated."""

    __tablename__ = "crowd_snapshots"
    __table_args__ = (UniqueConstraint("contest_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    backers: Mapped[int]
    amount_cents: Mapped[int]
    threshold_cents: Mapped[int]
    percent: Mapped[int]
    minimum_cents: Mapped[int]
    frozen_at: Mapped[datetime]  # the deadline the pledges were counted up to
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
