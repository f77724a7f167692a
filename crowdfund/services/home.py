from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from crowdfund.domain.projects import PUBLIC_STATES
from crowdfund.models.contests import Contest, District
from crowdfund.models.projects import Project


@dataclass(frozen=True)
class HomeOverview:
    contest: Contest | None
    district_count: int
    projects: list[Project]


def home_overview(session: Session, limit: int = 6) -> HomeOverview:
    """Return the newest contest, the number of districts and the newest public projects."""
    contest = session.scalars(select(Contest).order_by(Contest.funding_start.desc())).first()
    districts = session.scalar(select(func.count()).select_from(District)) or 0
    stmt = (
        select(Project)
        .where(Project.state.in_(sorted(PUBLIC_STATES)))
        .options(joinedload(Project.district))
        .order_by(Project.created_at.desc(), Project.id.desc())
        .limit(limit)
    )
    return HomeOverview(contest=contest, district_count=districts, projects=list(session.scalars(stmt)))
