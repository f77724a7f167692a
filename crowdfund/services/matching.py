"""Matchfunding: pots top up pledges. A match is reserved when a pledge becomes active, released with it,
and realised only when the project is funded and the pledge paid.

Reserving locks the pledge's row and then each candidate pot's row (FOR UPDATE, pots in id order), and
editing a pot locks its row too, so concurrent pledges and edits can never push a pot past its budget
or a cap. Every figure is a sum over the Match rows; nothing is kept as a running total."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify
from crowdfund.domain.matching import HOLDING as HOLDING_STATES
from crowdfund.domain.matching import MatchStatus, is_match_move, match_after_refund, pot_admits, pot_errors
from crowdfund.domain.pledges import PledgeStatus, match_amount
from crowdfund.domain.projects import ProjectState
from crowdfund.models.contests import Contest
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services import ledger
from crowdfund.services.audit import record_change

HOLDING = tuple(sorted(HOLDING_STATES))
DISTRICT_SLUGS = frozenset(slugify(name) for name in KASSEL_DISTRICTS)


class MatchNotRealisable(ValueError):
    """Realising a match whose pledge is not paid or whose project is not funded."""


# --- matches -------------------------------------------------------------------------------------------


def _admits(pot: MatchingPot, project: Project) -> bool:
    return pot.active and pot_admits(
        pot_contest_id=pot.contest_id, pot_districts=pot.district_slugs or (), pot_categories=pot.categories or (),
        contest_id=project.contest_id, district_slug=project.district.slug, category=project.category)


def eligible_pots(session: Session, project: Project) -> list[MatchingPot]:
    """Return the active pots whose contest, districts and categories admit this project, oldest first."""
    pots = session.scalars(select(MatchingPot).where(MatchingPot.active.is_(True)).order_by(MatchingPot.id))
    return [pot for pot in pots if _admits(pot, project)]


def _lock_pot(session: Session, pot_id: int) -> MatchingPot:
    # populate_existing: the budget, caps and rule as committed now, not as first loaded by this session.
    stmt = select(MatchingPot).where(MatchingPot.id == pot_id).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def _usage(session: Session, pot_id: int, pledge: Pledge) -> tuple[int, int, int]:
    """Return what the pot holds in total, for the pledge's project and for its backer (one statement)."""
    cents = Match.amount_cents
    row = session.execute(select(
        func.coalesce(func.sum(cents), 0),
        func.coalesce(func.sum(case((Match.project_id == pledge.project_id, cents), else_=0)), 0),
        func.coalesce(func.sum(case((Match.backer_id == pledge.backer_id, cents), else_=0)), 0),
    ).where(Match.pot_id == pot_id, Match.status.in_(HOLDING))).one()
    return int(row[0]), int(row[1]), int(row[2])


def _room(cap: int | None, used: int) -> int | None:
    return None if cap is None else cap - used


def _affordable(session: Session, pot: MatchingPot, pledge: Pledge) -> int:
    total, by_project, by_backer = _usage(session, pot.id, pledge)
    return match_amount(
        pledge.amount_cents, ratio_percent=pot.ratio_percent, cap_per_pledge=pot.cap_per_pledge_cents,
        room_project=_room(pot.cap_per_project_cents, by_project),
        room_backer=_room(pot.cap_per_backer_cents, by_backer), room_budget=pot.budget_cents - total)


def reserve_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Reserve an active pledge's top-up from the first eligible pot with room; None if no pot gives any.

    Idempotent per pledge: a reserved or realised match is returned unchanged (to match a changed
    amount, release first). A pledge that is not active raises ValueError: only those are matched."""
    if pledge.status != PledgeStatus.ACTIVE:
        raise ValueError(f"only an active pledge is matched, not one in status '{pledge.status}'")
    # The pledge's lock makes a second confirmation of the same pledge wait and then find its match.
    session.execute(select(Pledge.id).where(Pledge.id == pledge.id).with_for_update())
    existing = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).first()
    if existing is not None and existing.status in HOLDING:
        return existing
    project = pledge.project
    for candidate in eligible_pots(session, project):
        pot = _lock_pot(session, candidate.id)
        amount = _affordable(session, pot, pledge) if _admits(pot, project) else 0
        if amount > 0:
            return _hold(session, existing, pot, pledge, amount, actor_id)
    return None


def _hold(session: Session, existing: Match | None, pot: MatchingPot, pledge: Pledge, amount: int,
          actor_id: int | None) -> Match:
    match = existing or Match(pledge_id=pledge.id, project_id=pledge.project_id, backer_id=pledge.backer_id)
    before = existing.status if existing is not None else None
    match.pot_id, match.amount_cents, match.status = pot.id, amount, MatchStatus.RESERVED.value
    session.add(match)
    session.flush()
    record_change(session, entity_type="match", entity_id=match.id, action="reserve", actor_id=actor_id,
                  from_state=before, to_state=match.status, reason=f"{amount} cents from pot {pot.id}")
    return match


def _move(session: Session, pledge: Pledge, target: MatchStatus, actor_id: int | None) -> Match | None:
    match = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).first()
    if match is None or not is_match_move(match.status, target):
        return match
    before, match.status = match.status, target.value
    session.flush()
    record_change(session, entity_type="match", entity_id=match.id, action=target.value, actor_id=actor_id,
                  from_state=before, to_state=match.status)
    return match


def release_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Give a cancelled, released or failed pledge's top-up back to its pot (a repeat changes nothing).

    A realised match is real money: releasing it raises IllegalMatchTransition."""
    return _move(session, pledge, MatchStatus.RELEASED, actor_id)


def realise_match(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Match | None:
    """Make a paid pledge's reserved top-up real (the caller writes the ledger line); a repeat is a no-op.

    Only for a paid pledge of a funded project (else MatchNotRealisable); a released match raises
    IllegalMatchTransition."""
    if pledge.status != PledgeStatus.PAID or pledge.project.state != ProjectState.FUNDED:
        raise MatchNotRealisable(f"pledge {pledge.id} is '{pledge.status}', its project '{pledge.project.state}'")
    return _move(session, pledge, MatchStatus.REALISED, actor_id)


def reverse_match_after_refund(session: Session, pledge: Pledge, *, key: str, actor_id: int | None = None) -> int:
    """Book back to its pot the part of a realised match that a refund of its pledge takes away; return the
    cents booked back (0: nothing to do). The caller holds the pledge's row lock and has already added the
    refund to `pledge.refunded_cents`.

    What the match keeps is `domain.matching.match_after_refund`: proportional to what the backer kept, in
    whole cents rounded down (the remainder cent goes back to the pot), so no cap is ever exceeded; a full
    refund reverses the whole match (status `reversed`). Each step is a negative `match` line on the ledger
    under `key` and an audit row; the pot's remaining budget grows by as much, as it is a sum over the
    matches. A repeat with the same key books nothing more."""
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)) is not None:
        return 0
    match = session.scalars(select(Match).where(Match.pledge_id == pledge.id).with_for_update()
                            .execution_options(populate_existing=True)).first()
    if match is None or match.status != MatchStatus.REALISED:
        return 0
    pot = _lock_pot(session, match.pot_id)  # pledge, then pot: the order reserve_match locks in
    reversed_before = -int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.pledge_id == pledge.id, LedgerEntry.kind == "match", LedgerEntry.amount_cents < 0)) or 0)
    keeps = match_after_refund(match.amount_cents + reversed_before, pledge.paid_cents, pledge.refunded_cents)
    back = match.amount_cents - keeps
    if back <= 0:
        return 0
    ledger.post_entry(session, kind="match", amount_cents=-back, project_id=pledge.project_id, pledge_id=pledge.id,
                      pot_id=pot.id, provider_ref=None, idempotency_key=key, actor_id=actor_id,
                      currency=pledge.currency, note=f"match {match.id} booked back after a refund")
    before = match.status
    match.amount_cents = keeps
    if keeps == 0 and is_match_move(match.status, MatchStatus.REVERSED):
        match.status = MatchStatus.REVERSED.value
    session.flush()
    record_change(session, entity_type="match", entity_id=match.id,
                  action="reverse" if keeps == 0 else "reduce", actor_id=actor_id, from_state=before,
                  to_state=match.status, reason=f"{back} cents back to pot {pot.id} after a refund; {keeps} cents kept")
    return back


def _held_sum(*conditions: Any) -> Any:
    return select(func.coalesce(func.sum(Match.amount_cents), 0)).where(Match.status.in_(HOLDING), *conditions)


def pot_remaining(session: Session, pot: MatchingPot) -> int:
    """Return what the pot can still give: its budget less everything reserved or realised."""
    return pot.budget_cents - int(session.scalar(_held_sum(Match.pot_id == pot.id)) or 0)


def project_matched(session: Session, project_id: int) -> int:
    """Return the cents reserved or realised for a project across every pot."""
    return int(session.scalar(_held_sum(Match.project_id == project_id)) or 0)


def matched_toward_threshold(session: Session, project_id: int) -> int:
    """Return the project's reserved or realised matches from pots that count toward its threshold."""
    stmt = _held_sum(Match.project_id == project_id, MatchingPot.counts_toward_threshold.is_(True)).join(
        MatchingPot, MatchingPot.id == Match.pot_id)
    return int(session.scalar(stmt) or 0)


class MatchLine(NamedTuple):
    sponsor_name: str
    matched_cents: int
    remaining_cents: int


def project_match_summary(session: Session, project_id: int) -> list[MatchLine]:
    """Return, per pot that tops up the project, its sponsor, the cents it adds and what it has left.

    One statement, however many pledges: matches grouped by pot, each pot's remainder a subquery."""
    other = aliased(Match)
    pot_held = (select(func.coalesce(func.sum(other.amount_cents), 0))
                .where(other.pot_id == MatchingPot.id, other.status.in_(HOLDING))
                .correlate(MatchingPot).scalar_subquery())
    stmt = (select(MatchingPot.sponsor_name, func.sum(Match.amount_cents), MatchingPot.budget_cents - pot_held)
            .join(Match, Match.pot_id == MatchingPot.id)
            .where(Match.project_id == project_id, Match.status.in_(HOLDING))
            .group_by(MatchingPot.id, MatchingPot.sponsor_name, MatchingPot.budget_cents)
            .order_by(MatchingPot.id))
    return [MatchLine(name, int(matched), max(0, int(left))) for name, matched, left in session.execute(stmt)]


# --- pots (admin) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PotData:
    sponsor_name: str
    budget_cents: int
    ratio_percent: int = 100
    contest_id: int | None = None
    cap_per_pledge_cents: int | None = None
    cap_per_backer_cents: int | None = None
    cap_per_project_cents: int | None = None
    district_slugs: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    counts_toward_threshold: bool = False
    active: bool = True


class PotInvalid(ValueError):
    """Pot input that breaks a rule; `errors` maps each field to a stable code, `held_cents` is what
    the pot's matches already hold (the floor for its budget)."""

    def __init__(self, errors: dict[str, str], held_cents: int = 0) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in errors.items()))
        self.errors, self.held_cents = errors, held_cents


@dataclass(frozen=True)
class PotRow:
    pot: MatchingPot
    contest_name: str | None
    reserved_cents: int
    realised_cents: int

    @property
    def remaining_cents(self) -> int:
        return self.pot.budget_cents - self.reserved_cents - self.realised_cents


def _sum_status(status: MatchStatus) -> Any:
    return func.coalesce(func.sum(case((Match.status == status.value, Match.amount_cents), else_=0)), 0)


def pot_overview(session: Session) -> list[PotRow]:
    """Return every pot with its contest's name and its reserved and realised cents, newest first.

    One statement: the matches are grouped by pot once, not summed pot by pot."""
    held = (select(Match.pot_id, _sum_status(MatchStatus.RESERVED).label("reserved"),
                   _sum_status(MatchStatus.REALISED).label("realised")).group_by(Match.pot_id).subquery())
    stmt = (select(MatchingPot, Contest.name, func.coalesce(held.c.reserved, 0), func.coalesce(held.c.realised, 0))
            .outerjoin(Contest, Contest.id == MatchingPot.contest_id)
            .outerjoin(held, held.c.pot_id == MatchingPot.id)
            .order_by(MatchingPot.id.desc()))
    return [PotRow(pot, name, int(reserved), int(realised)) for pot, name, reserved, realised in session.execute(stmt)]


def create_pot(session: Session, data: PotData, *, actor_id: int | None) -> MatchingPot:
    """Create a pot from valid input (else PotInvalid) and audit it."""
    _check(session, data, held=0)
    pot = MatchingPot(**_columns(data))
    session.add(pot)
    session.flush()
    record_change(session, entity_type="pot", entity_id=pot.id, action="create", actor_id=actor_id,
                  to_state=_state(pot), reason=_describe(_columns(data)))
    return pot


def update_pot(session: Session, pot_id: int, data: PotData, *, actor_id: int | None) -> MatchingPot:
    """Save an edited pot under its row lock; its budget never drops below what its matches hold.

    Audits what changed; saving without a change writes nothing."""
    pot = _lock_pot(session, pot_id)
    held = int(session.scalar(_held_sum(Match.pot_id == pot.id)) or 0)
    _check(session, data, held=held)
    before, changes = _state(pot), _changes(pot, _columns(data))
    if changes:
        for name, (_old, new) in changes.items():
            setattr(pot, name, new)
        session.flush()
        record_change(session, entity_type="pot", entity_id=pot.id, action="update", actor_id=actor_id,
                      from_state=before, to_state=_state(pot),
                      reason="; ".join(f"{name}: {old!r} -> {new!r}" for name, (old, new) in changes.items()))
    return pot


def _columns(data: PotData) -> dict[str, Any]:
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    values["sponsor_name"] = data.sponsor_name.strip()
    values["district_slugs"], values["categories"] = sorted(data.district_slugs), sorted(data.categories)
    return values


def _changes(pot: MatchingPot, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {name: (getattr(pot, name), new) for name, new in values.items() if getattr(pot, name) != new}


def _state(pot: MatchingPot) -> str:
    return "active" if pot.active else "inactive"


def _describe(values: dict[str, Any]) -> str:
    return "; ".join(f"{name}: {value!r}" for name, value in values.items())


def _check(session: Session, data: PotData, *, held: int) -> None:
    errors = pot_errors(_columns(data), held_cents=held, districts=DISTRICT_SLUGS, categories=CATEGORIES)
    if data.contest_id is not None and session.get(Contest, data.contest_id) is None:
        errors["contest_id"] = "unknown"
    if errors:
        raise PotInvalid(errors, held_cents=held)
