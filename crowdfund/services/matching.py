"""Matchfunding: pots top up pledges. A match is reserved when a pledge becomes active, released
with it, and realised only when the project is funded and the pledge paid.

The pot's row is locked (FOR UPDATE) while a match is reserved, so concurrent pledges can never
reserve more than the budget."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdfund.domain.pledges import match_amount
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services.audit import record_change

HOLDING = ("reserved", "realised")


def eligible_pots(session: Session, project: Project) -> list[MatchingPot]:
    """Return the active pots whose contest, districts and categories admit this project."""
    pots = session.scalars(select(MatchingPot).where(MatchingPot.active.is_(True)).order_by(MatchingPot.id))
    return [
        pot for pot in pots
        if (pot.contest_id in (None, project.contest_id))
        and (not pot.district_slugs or project.district.slug in pot.district_slugs)
        and (not pot.categories or project.category in pot.categories)
    ]


def _held(session: Session, pot_id: int, *conditions) -> int:
    stmt = select(func.coalesce(func.sum(Match.amount_cents), 0)).where(
        Match.pot_id == pot_id, Match.status.in_(HOLDING), *conditions)
    return int(session.scalar(stmt) or 0)


def _room(cap: int | None, used: int) -> int | None:
    return None if cap is None else cap - used


def reserve_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Reserve the first eligible pot's top-up for an active pledge (idempotent per pledge)."""
    existing = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).first()
    if existing is not None and existing.status in HOLDING:
        return existing
    for candidate in eligible_pots(session, pledge.project):
        pot = session.scalars(select(MatchingPot).where(MatchingPot.id == candidate.id).with_for_update()).one()
        by_project = _held(session, pot.id, Match.project_id == pledge.project_id)
        by_backer = _held(session, pot.id, Match.backer_id == pledge.backer_id)
        amount = match_amount(
            pledge.amount_cents, ratio_percent=pot.ratio_percent, cap_per_pledge=pot.cap_per_pledge_cents,
            room_project=_room(pot.cap_per_project_cents, by_project),
            room_backer=_room(pot.cap_per_backer_cents, by_backer),
            room_budget=pot.budget_cents - _held(session, pot.id),
        )
        if amount > 0:
            return _hold(session, existing, pot, pledge, amount, actor_id)
    return None


def _hold(session: Session, existing: Match | None, pot: MatchingPot, pledge: Pledge, amount: int,
          actor_id: int | None) -> Match:
    match = existing or Match(pledge_id=pledge.id, project_id=pledge.project_id, backer_id=pledge.backer_id)
    match.pot_id, match.amount_cents, match.status = pot.id, amount, "reserved"
    session.add(match)
    session.flush()
    record_change(session, entity_type="match", entity_id=match.id, action="reserve", actor_id=actor_id,
                  to_state="reserved", reason=f"{amount} cents from pot {pot.id}")
    return match


def _move(session: Session, pledge: Pledge, target: str, actor_id: int | None) -> Match | None:
    match = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).first()
    if match is None or match.status == target or match.status == "released":
        return match
    before, match.status = match.status, target
    session.flush()
    record_change(session, entity_type="match", entity_id=match.id, action=target, actor_id=actor_id,
                  from_state=before, to_state=target)
    return match


def release_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Give a cancelled or released pledge's top-up back to its pot (a repeat changes nothing)."""
    return _move(session, pledge, "released", actor_id)


def realise_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Make a paid pledge's reserved top-up real (the caller writes the ledger line)."""
    return _move(session, pledge, "realised", actor_id)


def pot_remaining(session: Session, pot: MatchingPot) -> int:
    """Return what the pot can still give: its budget less everything reserved or realised."""
    return pot.budget_cents - _held(session, pot.id)


def project_matched(session: Session, project_id: int) -> int:
    """Return the cents reserved or realised for a project across every pot."""
    stmt = select(func.coalesce(func.sum(Match.amount_cents), 0)).where(
        Match.project_id == project_id, Match.status.in_(HOLDING))
    return int(session.scalar(stmt) or 0)
