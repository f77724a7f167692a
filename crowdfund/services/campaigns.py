"""Public campaign queries: list with search, filters, sorting and pages; one campaign with its totals.

Each query runs a fixed number of SQL statements, however many projects, rewards or pledges exist."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, case, distinct, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from crowdfund.domain.projects import PUBLIC_STATES
from crowdfund.models.contests import District
from crowdfund.models.pledges import COUNTING_STATUSES, Pledge
from crowdfund.models.projects import Project

PAGE_SIZE = 12


class Sort(StrEnum):
    NEWEST = "newest"
    ENDING_SOON = "ending_soon"
    MOST_BACKERS = "most_backers"
    PERCENT_FUNDED = "percent_funded"


@dataclass(frozen=True)
class CampaignFilter:
    q: str = ""
    district: str = ""  # district slug
    category: str = ""
    state: str = ""
    sort: Sort = Sort.NEWEST
    page: int = 1


@dataclass(frozen=True)
class Campaign:
    """A project together with the money and backers it has gathered."""

    project: Project
    pledged_cents: int
    backers: int

    @property
    def percent_funded(self) -> int:
        return self.pledged_cents * 100 // self.project.threshold_cents

    @property
    def threshold_reached(self) -> bool:
        return self.pledged_cents >= self.project.threshold_cents


@dataclass(frozen=True)
class CampaignPage:
    items: list[Campaign]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _totals_subquery():
    return (
        select(
            Pledge.project_id.label("project_id"),
            func.sum(Pledge.amount_cents).label("pledged"),
            func.count(distinct(Pledge.backer_id)).label("backers"),
        )
        .where(Pledge.status.in_(COUNTING_STATUSES))
        .group_by(Pledge.project_id)
        .subquery()
    )


def _filtered(stmt: Select, flt: CampaignFilter) -> Select:
    if flt.state and flt.state not in PUBLIC_STATES:
        raise ValueError(f"state {flt.state!r} is not public")  # drafts never leak into public lists
    stmt = stmt.where(Project.state.in_([flt.state] if flt.state else sorted(PUBLIC_STATES)))
    if flt.district:
        stmt = stmt.where(Project.district_id == select(District.id).where(District.slug == flt.district)
                          .scalar_subquery())
    if flt.category:
        stmt = stmt.where(Project.category == flt.category)
    if flt.q.strip():
        needle = flt.q.strip().lower()
        stmt = stmt.where(or_(func.lower(Project.title).contains(needle, autoescape=True),
                              func.lower(Project.pitch).contains(needle, autoescape=True)))
    return stmt


def _ordering(sort: Sort, pledged, backers) -> list:
    live_first = case((Project.state == "live", 0), else_=1)
    return {
        Sort.NEWEST: [Project.published_at.desc().nulls_last(), Project.id.desc()],
        Sort.ENDING_SOON: [live_first, Project.deadline.asc().nulls_last(), Project.id],
        Sort.MOST_BACKERS: [backers.desc(), Project.id.desc()],
        Sort.PERCENT_FUNDED: [(pledged * 10000 / Project.threshold_cents).desc(), Project.id.desc()],
    }[sort]


def list_campaigns(session: Session, flt: CampaignFilter, page_size: int = PAGE_SIZE) -> CampaignPage:
    """Return one page of public campaigns matching `flt`, with totals (two SQL statements)."""
    totals = _totals_subquery()
    pledged = func.coalesce(totals.c.pledged, 0)
    backers = func.coalesce(totals.c.backers, 0)
    base = _filtered(select(Project, pledged, backers).outerjoin(totals, totals.c.project_id == Project.id), flt)
    total = session.scalar(_filtered(select(func.count(Project.id)), flt)) or 0
    page = max(1, flt.page)
    stmt = (base.options(joinedload(Project.district)).order_by(*_ordering(flt.sort, pledged, backers))
            .limit(page_size).offset((page - 1) * page_size))
    items = [Campaign(p, int(c), int(b)) for p, c, b in session.execute(stmt)]
    return CampaignPage(items=items, total=total, page=page, page_size=page_size)


def campaign_totals(session: Session, project_id: int) -> tuple[int, int]:
    """Return (pledged cents, distinct backers) of the pledges that count toward the campaign."""
    row = session.execute(
        select(func.coalesce(func.sum(Pledge.amount_cents), 0), func.count(distinct(Pledge.backer_id)))
        .where(Pledge.project_id == project_id, Pledge.status.in_(COUNTING_STATUSES))
    ).one()
    return int(row[0]), int(row[1])


def get_campaign(session: Session, slug: str, *, public_only: bool = True) -> Campaign | None:
    """Return the campaign with this slug, its team, rewards and updates loaded (constant statements)."""
    stmt = (select(Project).where(Project.slug == slug)
            .options(joinedload(Project.district), joinedload(Project.contest),
                     selectinload(Project.team), selectinload(Project.rewards), selectinload(Project.updates)))
    if public_only:
        stmt = stmt.where(Project.state.in_(sorted(PUBLIC_STATES)))
    project = session.scalars(stmt).first()
    if project is None:
        return None
    pledged, backers = campaign_totals(session, project.id)
    return Campaign(project, pledged, backers)


def districts(session: Session) -> list[District]:
    return list(session.scalars(select(District).order_by(District.name)))
