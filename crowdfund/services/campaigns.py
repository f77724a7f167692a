"""Public campaign queries: list with search, filters, sorting and pages; one campaign with its totals;
the districts with their project counts.

A campaign's totals: the pledges that count (active up to paid) and their distinct backers, plus the money
matched from pots that count toward the threshold (reserved or realised matches). Progress toward the
threshold and the goal uses pledged + matched, as settlement does.

Each query runs a fixed number of SQL statements, however many projects, rewards or pledges exist.
Only projects in a public state are ever returned; drafts and pitches under review stay private."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from crowdfund.domain.matching import HOLDING
from crowdfund.domain.projects import PUBLIC_STATES, percent_funded, threshold_reached
from crowdfund.models.contests import District
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.pledges import COUNTING_STATUSES, Pledge
from crowdfund.models.projects import Project

PAGE_SIZE = 12
_PUBLIC = sorted(PUBLIC_STATES)
# What a card shows: the list leaves out descriptions and recipient details.
_CARD_COLUMNS = (Project.slug, Project.title, Project.pitch, Project.category, Project.state,
                 Project.threshold_cents, Project.goal_cents, Project.currency, Project.deadline,
                 Project.published_at, Project.district_id, Project.cover_image)


class Sort(StrEnum):
    NEWEST = "newest"
    ENDING_SOON = "ending_soon"
    MOST_BACKERS = "most_backers"
    PERCENT_FUNDED = "percent_funded"


class UnknownDistrict(LookupError):
    """The district slug of a filter names no district."""


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
    matched_cents: int = 0  # from pots that count toward the threshold

    @property
    def counted_cents(self) -> int:
        """What counts toward the threshold: pledged plus matched from counting pots."""
        return self.pledged_cents + self.matched_cents

    @property
    def percent_funded(self) -> int:
        return percent_funded(self.counted_cents, self.project.threshold_cents)

    @property
    def threshold_reached(self) -> bool:
        return threshold_reached(self.counted_cents, self.project.threshold_cents)

    @property
    def percent_of_goal(self) -> int | None:
        goal = self.project.goal_cents
        return None if not goal else percent_funded(self.counted_cents, goal)


@dataclass(frozen=True)
class CampaignPage:
    items: list[Campaign]
    total: int
    page: int
    page_size: int
    district: District | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class DistrictCount:
    district: District
    projects: int


def _counting(*criteria: Any) -> ColumnElement[bool]:
    return and_(Pledge.status.in_(COUNTING_STATUSES), *criteria)


_HOLDING = sorted(HOLDING)


def _matching_toward_threshold(*criteria: Any) -> Select:
    """Matches that hold money (reserved or realised) from pots that count toward the threshold."""
    return (select(func.coalesce(func.sum(Match.amount_cents), 0))
            .join(MatchingPot, MatchingPot.id == Match.pot_id)
            .where(Match.status.in_(_HOLDING), MatchingPot.counts_toward_threshold.is_(True), *criteria))


def _correlated_totals() -> tuple[Any, Any, Any]:
    pledged = (select(func.coalesce(func.sum(Pledge.amount_cents), 0))
               .where(_counting(Pledge.project_id == Project.id)).scalar_subquery())
    backers = (select(func.count(distinct(Pledge.backer_id)))
               .where(_counting(Pledge.project_id == Project.id)).scalar_subquery())
    matched = _matching_toward_threshold(Match.project_id == Project.id).scalar_subquery()
    return pledged, backers, matched


def _page_statement(flt: CampaignFilter, district: District | None, limit: int, offset: int) -> Select:
    """Select one page of projects with their totals.

    Sorted by totals, they are grouped once over all pledges; otherwise the page is cut first and
    only its rows get their totals (correlated subqueries on the (project_id, status) index)."""
    if flt.sort in (Sort.MOST_BACKERS, Sort.PERCENT_FUNDED):
        totals = (select(Pledge.project_id, func.sum(Pledge.amount_cents).label("pledged"),
                         func.count(distinct(Pledge.backer_id)).label("backers"))
                  .where(_counting()).group_by(Pledge.project_id).subquery())
        matches = (select(Match.project_id, func.sum(Match.amount_cents).label("matched"))
                   .join(MatchingPot, MatchingPot.id == Match.pot_id)
                   .where(Match.status.in_(_HOLDING), MatchingPot.counts_toward_threshold.is_(True))
                   .group_by(Match.project_id).subquery())
        pledged, backers = func.coalesce(totals.c.pledged, 0), func.coalesce(totals.c.backers, 0)
        matched = func.coalesce(matches.c.matched, 0)
        stmt = _filtered(select(Project, pledged, backers, matched)
                         .outerjoin(totals, totals.c.project_id == Project.id)
                         .outerjoin(matches, matches.c.project_id == Project.id), flt, district)
        return stmt.order_by(*_ordering_by_totals(flt.sort, pledged + matched, backers)).limit(limit).offset(offset)
    ordering = _ordering(flt.sort)
    page = _filtered(select(Project.id), flt, district).order_by(*ordering).limit(limit).offset(offset).subquery()
    return select(Project, *_correlated_totals()).join(page, page.c.id == Project.id).order_by(*ordering)


def _filtered(stmt: Select, flt: CampaignFilter, district: District | None) -> Select:
    if flt.state and flt.state not in PUBLIC_STATES:
        raise ValueError(f"state {flt.state!r} is not public")  # drafts never leak into public lists
    stmt = stmt.where(Project.state.in_([flt.state] if flt.state else _PUBLIC))
    if district is not None:
        stmt = stmt.where(Project.district_id == district.id)
    if flt.category:
        stmt = stmt.where(Project.category == flt.category)
    if needle := flt.q.strip():
        stmt = stmt.where(Project.title.icontains(needle, autoescape=True)
                          | Project.pitch.icontains(needle, autoescape=True))
    return stmt


def _ordering(sort: Sort) -> list[Any]:
    if sort == Sort.NEWEST:
        return [Project.published_at.desc().nulls_last(), Project.id.desc()]
    live_first = case((Project.state == "live", 0), else_=1)
    return [live_first, Project.deadline.asc().nulls_last(), Project.id]


def _ordering_by_totals(sort: Sort, pledged: Any, backers: Any) -> list[Any]:
    if sort == Sort.MOST_BACKERS:
        return [backers.desc(), Project.id.desc()]
    return [(pledged * 10000 / Project.threshold_cents).desc(), Project.id.desc()]


def get_district(session: Session, slug: str) -> District | None:
    """Return the district with this slug, or None."""
    return session.scalars(select(District).where(District.slug == slug)).first()


def list_campaigns(session: Session, flt: CampaignFilter, page_size: int = PAGE_SIZE) -> CampaignPage:
    """Return one page of public campaigns matching `flt`, with totals.

    Two statements (count, page), one more to look up a district filter; an unknown district raises.
    Totals are computed for the page's rows only, unless the order depends on them."""
    district = None
    if flt.district:
        district = get_district(session, flt.district)
        if district is None:
            raise UnknownDistrict(flt.district)
    page = max(1, flt.page)
    total = session.scalar(_filtered(select(func.count(Project.id)), flt, district)) or 0
    items: list[Campaign] = []
    if total > (page - 1) * page_size:
        stmt = _page_statement(flt, district, page_size, (page - 1) * page_size).options(
            joinedload(Project.district, innerjoin=True), load_only(*_CARD_COLUMNS))
        items = [Campaign(p, int(cents), int(n), int(matched)) for p, cents, n, matched in session.execute(stmt)]
    return CampaignPage(items=items, total=total, page=page, page_size=page_size, district=district)


def campaign_totals(session: Session, project_id: int) -> tuple[int, int]:
    """Return (pledged cents, distinct backers) of the pledges that count toward the campaign.

    Matches are left out: settlement adds `matching.matched_toward_threshold`; pages use `get_campaign`."""
    row = session.execute(
        select(func.coalesce(func.sum(Pledge.amount_cents), 0), func.count(distinct(Pledge.backer_id)))
        .where(_counting(Pledge.project_id == project_id))
    ).one()
    return int(row[0]), int(row[1])


def get_campaign(session: Session, slug: str, *, public_only: bool = True, details: bool = True) -> Campaign | None:
    """Return the campaign with this slug and its totals (one statement).

    With `details`, its team, rewards and updates are loaded too (one statement each)."""
    pledged, backers, matched = _correlated_totals()
    stmt = (select(Project, pledged, backers, matched).where(Project.slug == slug)
            .options(joinedload(Project.district, innerjoin=True), joinedload(Project.contest, innerjoin=True)))
    if details:
        stmt = stmt.options(selectinload(Project.team), selectinload(Project.rewards), selectinload(Project.updates))
    if public_only:
        stmt = stmt.where(Project.state.in_(_PUBLIC))
    row = session.execute(stmt).first()
    if row is None:
        return None
    return Campaign(row[0], int(row[1]), int(row[2]), int(row[3]))


def district_overview(session: Session) -> list[DistrictCount]:
    """Return every district with its number of public projects, by name (one grouped statement)."""
    stmt = (select(District, func.count(Project.id))
            .outerjoin(Project, and_(Project.district_id == District.id, Project.state.in_(_PUBLIC)))
            .group_by(District.id).order_by(District.name))
    return [DistrictCount(district, int(n)) for district, n in session.execute(stmt)]


def districts(session: Session) -> list[District]:
    """Return every district, by name."""
    return list(session.scalars(select(District).order_by(District.name)))
