"""Test data as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest, District
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services import accounts

PASSWORD = "correct horse battery"
_seq = count(1)


def make_user(session: Session, *roles: Role, email: str | None = None, name: str = "Test User",
              password: str = PASSWORD) -> User:
    email = email or f"user{next(_seq)}@example.org"
    user = accounts.register_user(session, email=email, name=name, password=password, roles=roles)
    session.commit()
    return user


def make_district(session: Session, name: str = "Mitte") -> District:
    district = District(name=name, slug=name.lower())
    session.add(district)
    session.commit()
    return district


def make_contest(session: Session, now: datetime | None = None) -> Contest:
    now = now or datetime.now(UTC)
    day = timedelta(days=1)
    contest = Contest(
        slug=f"contest-{next(_seq)}", name="Crowdfunding-Wettbewerb Test",
        submission_start=now - 60 * day, submission_end=now - 30 * day, review_end=now - 20 * day,
        funding_start=now - 10 * day, funding_end=now + 60 * day, jury_end=now + 90 * day,
        results_at=now + 100 * day,
    )
    session.add(contest)
    session.commit()
    return contest


def make_project(session: Session, *, initiator: User, contest: Contest, district: District,
                 state: str = "draft", threshold_cents: int = 100_000, title: str | None = None) -> Project:
    n = next(_seq)
    project = Project(
        slug=f"project-{n}", title=title or f"Project {n}", pitch="A pitch for Kassel.",
        category="digital", state=state, threshold_cents=threshold_cents, contest=contest,
        district=district, initiator=initiator,
    )
    session.add(project)
    session.commit()
    return project
