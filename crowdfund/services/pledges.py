"""Pledges: start one with a SetupIntent, activate it on the provider's word, change or cancel it until the
deadline.

Rules:
- One open pledge per backer and project: at most one pledge in `pending_setup` or `active`; a second
  pledge is refused with `PledgeExists` (the web form edits that one instead). The backer's row is locked
  while a pledge starts, so two requests at once cannot both create one; the partial unique index
  `uq_pledges_one_open_per_backer` backs the rule, and its violation is refused the same way.
- A limited reward is never oversold: its unit is claimed in the transaction that creates or changes the
  pledge, under the reward's row lock (FOR NO KEY UPDATE: it excludes other claimers but not the foreign-key
  checks of inserted pledges), and given back when the pledge is cancelled. Two rewards are locked in id
  order, so that two changes cannot deadlock.
- The provider is called inside the caller's transaction; when it fails the caller rolls back and nothing
  is written. Only the provider, never the browser, says that a payment method was saved.
- Every status change goes through `apply_pledge_action` (audit row with actor and time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from crowdfund.domain.pledges import (
    CHANGEABLE,
    PledgeAction,
    PledgeStatus,
    check_amount,
    idempotency_key,
)
from crowdfund.domain.projects import PUBLIC_STATES, ProjectState
from crowdfund.models.payments import PaymentCustomer
from crowdfund.models.pledges import ONE_OPEN_PLEDGE_INDEX, Pledge
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services.audit import record_change
from crowdfund.services.matching import release_match, reserve_match
from crowdfund.services.pledge_state import apply_pledge_action
from payments.gateway import (
    PAYMENT_METHOD_TYPES,
    PaymentError,
    PaymentGateway,
    ProviderUnavailable,
    SetupIntentInfo,
)

T = TypeVar("T")
MESSAGE_MAX_LENGTH = 500
PROVIDER = "stripe"
OPEN_STATUSES = tuple(sorted(CHANGEABLE))
STILL_WORKING = frozenset({"requires_action", "requires_confirmation", "processing"})


@dataclass(frozen=True)
class PledgeRules:
    """The configured limits: amounts in cents and the payment method types on offer."""

    min_cents: int
    max_cents: int
    payment_method_types: tuple[str, ...] = ("card", "sepa_debit")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PledgeRules:
        listed = (t.strip() for t in str(config.get("PAYMENT_METHOD_TYPES", "card")).split(","))
        types = tuple(t for t in listed if t in PAYMENT_METHOD_TYPES)  # only what the gateway can save
        return cls(int(config["PLEDGE_MIN_CENTS"]), int(config["PLEDGE_MAX_CENTS"]), types)


class PledgeError(Exception):
    """Base of the errors of this module; nothing was changed (the caller rolls back)."""


class PledgeInvalid(PledgeError):
    """Bad input: `errors` maps a field (amount_cents, reward_id, ...) to a stable code."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class RewardSoldOut(PledgeInvalid):
    """Every unit of the chosen reward is held by other pledges."""

    def __init__(self) -> None:
        super().__init__({"reward_id": "sold_out"})


class PledgeClosed(PledgeError):
    """The project takes no pledges or changes: it is not live or its deadline has passed."""


class PledgeExists(PledgeError):
    """The backer already has an open pledge for this project; change that one instead."""

    def __init__(self, pledge: Pledge) -> None:
        super().__init__(f"pledge {pledge.id} is already open for this project")
        self.pledge = pledge


class PledgeNotChangeable(PledgeError):
    """The pledge's status allows no change (cancelled, being charged, paid, ...)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"a pledge in status {status!r} cannot be changed")
        self.status = status


class PaymentProviderError(PledgeError):
    """The payment provider failed; `unavailable` when it could not be reached (outcome unknown)."""

    def __init__(self, message: str, *, unavailable: bool) -> None:
        super().__init__(message)
        self.unavailable = unavailable


class ConfirmOutcome(StrEnum):
    ACTIVATED = "activated"
    ALREADY_ACTIVE = "already_active"
    PENDING = "pending"  # the provider is still working (3-D Secure open, SEPA processing)
    FAILED = "failed"  # nothing saved: the backer must try again


@dataclass(frozen=True)
class ConfirmResult:
    outcome: ConfirmOutcome
    setup_intent_status: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class StartedPledge:
    pledge: Pledge
    setup_intent: SetupIntentInfo


def start_pledge(session: Session, gateway: PaymentGateway, *, project: Project, backer: User, amount_cents: int,
                 reward_id: int | None, anonymous: bool, message: str, payment_method_type: str, now: datetime,
                 rules: PledgeRules) -> StartedPledge:
    """Create a pending pledge with a SetupIntent for the browser to confirm.

    The project must be live and before its deadline; the amount within the rules and at least the reward's
    minimum; a limited reward's unit is claimed under its row lock; one open pledge per backer and project."""
    require_open(project, now)
    _check_method(payment_method_type, rules)
    _check_message(message)
    _lock(session, User, backer.id)
    if (existing := open_pledge(session, project, backer)) is not None:
        raise PledgeExists(existing)
    reward = _reward_of(session, project, reward_id) if reward_id is not None else None
    _check_amount(amount_cents, reward, rules)
    _check_room(reward)  # early answer without provider calls; rechecked under the lock below
    customer_id = _customer_id(session, gateway, backer)
    pledge = Pledge(project=project, backer=backer, reward=reward, amount_cents=amount_cents,
                    currency=project.currency, status=PledgeStatus.PENDING_SETUP.value, anonymous=anonymous,
                    message=message.strip(), customer_id=customer_id, payment_method_type=payment_method_type)
    _insert_open_pledge(session, pledge, project, backer)
    setup = _provider(gateway.create_setup_intent, customer_id=customer_id,
                      payment_method_types=[payment_method_type], metadata={"pledge_id": str(pledge.id)},
                      idempotency_key=idempotency_key(pledge.id, "setup"))
    pledge.setup_intent_id = setup.id
    if reward is not None:
        _claim(_locked_rewards(session, project, [reward.id])[reward.id])
    record_change(session, entity_type="pledge", entity_id=pledge.id, action="start", actor_id=backer.id,
                  to_state=PledgeStatus.PENDING_SETUP.value, reason=f"{amount_cents} cents")
    return StartedPledge(pledge, setup)


def confirm_pledge(session: Session, gateway: PaymentGateway, pledge: Pledge, *, actor_id: int | None,
                   now: datetime) -> ConfirmResult:
    """Activate a pending pledge once the provider reports its SetupIntent succeeded.

    The SetupIntent is re-fetched from the provider (never the browser's word); the saved payment method is
    stored, the pledge becomes active and its match is reserved. A repeat changes nothing."""
    _lock(session, Pledge, pledge.id)
    if pledge.status == PledgeStatus.ACTIVE:
        return ConfirmResult(ConfirmOutcome.ALREADY_ACTIVE, "succeeded")
    if pledge.status != PledgeStatus.PENDING_SETUP or not pledge.setup_intent_id:
        raise PledgeNotChangeable(pledge.status)
    require_open(pledge.project, now)
    setup = _provider(gateway.retrieve_setup_intent, pledge.setup_intent_id)
    if setup.metadata.get("pledge_id") != str(pledge.id):
        raise PaymentProviderError(f"SetupIntent {setup.id} belongs to another pledge", unavailable=False)
    if setup.succeeded:
        pledge.payment_method_id = setup.payment_method_id
        pledge.payment_method_type = setup.payment_method_type or pledge.payment_method_type
        apply_pledge_action(session, pledge, PledgeAction.CONFIRM_SETUP, actor_id=actor_id)
        reserve_match(session, pledge, actor_id=actor_id)
        return ConfirmResult(ConfirmOutcome.ACTIVATED, setup.status)
    if setup.status in STILL_WORKING:
        return ConfirmResult(ConfirmOutcome.PENDING, setup.status)
    return ConfirmResult(ConfirmOutcome.FAILED, setup.status, setup.last_error)


def payment_setup(session: Session, gateway: PaymentGateway, pledge: Pledge, *, now: datetime) -> SetupIntentInfo:
    """Return the SetupIntent the backer confirms next; a cancelled one is replaced by a new one.

    Only a pending pledge of an open project has one; the new SetupIntent's idempotency key names the one
    it replaces, so a repeated call creates no second replacement."""
    _lock(session, Pledge, pledge.id)
    if pledge.status != PledgeStatus.PENDING_SETUP or not pledge.setup_intent_id or not pledge.customer_id:
        raise PledgeNotChangeable(pledge.status)
    require_open(pledge.project, now)
    setup = _provider(gateway.retrieve_setup_intent, pledge.setup_intent_id)
    if setup.status != "canceled":
        return setup
    setup = _provider(gateway.create_setup_intent, customer_id=pledge.customer_id,
                      payment_method_types=[pledge.payment_method_type or "card"],
                      metadata={"pledge_id": str(pledge.id)},
                      idempotency_key=idempotency_key(pledge.id, f"setup-after-{setup.id}"))
    pledge.setup_intent_id = setup.id
    session.flush()
    return setup


def cancel_pledge(session: Session, pledge: Pledge, *, actor_id: int | None, now: datetime,
                  reason: str | None = None) -> bool:
    """Cancel an active or pending pledge before the deadline; return False if it already was cancelled.

    Its reward unit goes back under the reward's row lock and its match is released."""
    _lock(session, Pledge, pledge.id)
    if pledge.status == PledgeStatus.CANCELLED:
        return False
    if pledge.status not in CHANGEABLE:
        raise PledgeNotChangeable(pledge.status)
    require_open(pledge.project, now)
    apply_pledge_action(session, pledge, PledgeAction.CANCEL, actor_id=actor_id, reason=reason)
    if pledge.reward_id is not None:
        _release(_locked_rewards(session, pledge.project, [pledge.reward_id])[pledge.reward_id])
    release_match(session, pledge, actor_id=actor_id)
    session.flush()
    return True


def change_pledge(session: Session, pledge: Pledge, *, amount_cents: int, reward_id: int | None, now: datetime,
                  rules: PledgeRules, actor_id: int | None, anonymous: bool | None = None,
                  message: str | None = None) -> Pledge:
    """Change an open pledge's amount, reward, anonymity or message before the deadline.

    Moving between rewards locks both rows in id order, gives the old unit back and claims the new one; the
    saved payment method stays; an active pledge's match follows the new amount."""
    _lock(session, Pledge, pledge.id)
    if pledge.status not in CHANGEABLE:
        raise PledgeNotChangeable(pledge.status)
    require_open(pledge.project, now)
    if message is not None:
        _check_message(message)
    before = (pledge.amount_cents, pledge.reward_id, pledge.anonymous, pledge.message)
    rewards = _locked_rewards(session, pledge.project, {i for i in (pledge.reward_id, reward_id) if i is not None})
    if reward_id is not None and reward_id not in rewards:
        raise PledgeInvalid({"reward_id": "unknown"})
    new_reward = rewards.get(reward_id) if reward_id is not None else None
    _check_amount(amount_cents, new_reward, rules)
    if reward_id != pledge.reward_id:
        _move_reward(rewards.get(pledge.reward_id) if pledge.reward_id is not None else None, new_reward)
        pledge.reward = new_reward
    pledge.amount_cents = amount_cents
    pledge.anonymous = pledge.anonymous if anonymous is None else anonymous
    pledge.message = pledge.message if message is None else message.strip()
    session.flush()
    if pledge.status == PledgeStatus.ACTIVE and amount_cents != before[0]:
        release_match(session, pledge, actor_id=actor_id)
        reserve_match(session, pledge, actor_id=actor_id)
    if before != (pledge.amount_cents, pledge.reward_id, pledge.anonymous, pledge.message):
        record_change(session, entity_type="pledge", entity_id=pledge.id, action="change", actor_id=actor_id,
                      from_state=pledge.status, to_state=pledge.status,
                      reason=f"amount {before[0]} -> {amount_cents} cents, reward {before[1]} -> {reward_id}")
    return pledge


# -- queries ------------------------------------------------------------------------------------------------
def public_project(session: Session, slug: str) -> Project | None:
    """Return the public project with this slug, its rewards loaded."""
    stmt = (select(Project).where(Project.slug == slug, Project.state.in_(sorted(PUBLIC_STATES)))
            .options(selectinload(Project.rewards)))
    return session.scalars(stmt).first()


def open_pledge(session: Session, project: Project, backer: User) -> Pledge | None:
    """Return the backer's pending or active pledge for this project, if any."""
    stmt = select(Pledge).where(Pledge.project_id == project.id, Pledge.backer_id == backer.id,
                                Pledge.status.in_(OPEN_STATUSES)).order_by(Pledge.id)
    return session.scalars(stmt).first()


def backer_pledges(session: Session, backer: User) -> list[Pledge]:
    """Return every pledge of the backer with its project and reward, newest first."""
    stmt = (select(Pledge).where(Pledge.backer_id == backer.id)
            .options(joinedload(Pledge.project), joinedload(Pledge.reward)).order_by(Pledge.id.desc()))
    return list(session.scalars(stmt))


def is_open(project: Project, now: datetime) -> bool:
    """Tell whether the project takes pledges and changes: live and before its deadline."""
    return project.state == ProjectState.LIVE and project.deadline is not None and now < project.deadline


def require_open(project: Project, now: datetime) -> None:
    """Raise PledgeClosed unless the project is live and before its deadline."""
    if not is_open(project, now):
        raise PledgeClosed(f"project {project.slug} takes no pledges now")


# -- helpers ------------------------------------------------------------------------------------------------
def _check_method(payment_method_type: str, rules: PledgeRules) -> None:
    if payment_method_type not in rules.payment_method_types:
        raise PledgeInvalid({"payment_method_type": "unknown"})


def _check_message(message: str) -> None:
    if len(message.strip()) > MESSAGE_MAX_LENGTH:
        raise PledgeInvalid({"message": "too_long"})


def _check_amount(amount_cents: int, reward: Reward | None, rules: PledgeRules) -> None:
    problem = check_amount(amount_cents, minimum_cents=rules.min_cents, maximum_cents=rules.max_cents,
                           reward_minimum_cents=reward.min_amount_cents if reward is not None else None)
    if problem is not None:
        raise PledgeInvalid({"amount_cents": problem.value})


def _check_room(reward: Reward | None) -> None:
    if reward is not None and reward.quantity_left is not None and reward.quantity_left <= 0:
        raise RewardSoldOut()


def _reward_of(session: Session, project: Project, reward_id: int) -> Reward:
    stmt = (select(Reward).where(Reward.id == reward_id, Reward.project_id == project.id)
            .execution_options(populate_existing=True))
    reward = session.scalars(stmt).first()
    if reward is None:
        raise PledgeInvalid({"reward_id": "unknown"})
    return reward


def _locked_rewards(session: Session, project: Project, ids: Iterable[int]) -> dict[int, Reward]:
    """Lock the project's rewards with these ids, in id order, and return them with fresh counts."""
    if not (ids := sorted(set(ids))):
        return {}
    stmt = (select(Reward).where(Reward.id.in_(ids), Reward.project_id == project.id)
            .order_by(Reward.id).with_for_update(key_share=True).execution_options(populate_existing=True))
    return {reward.id: reward for reward in session.scalars(stmt)}


def _claim(reward: Reward) -> None:
    """Take a unit of a locked reward; the SQL increment and CHECK never_oversold guard even a missed lock."""
    _check_room(reward)
    reward.quantity_claimed = Reward.quantity_claimed + 1  # type: ignore[assignment]


def _release(reward: Reward) -> None:
    if reward.quantity_claimed > 0:
        reward.quantity_claimed = Reward.quantity_claimed - 1  # type: ignore[assignment]


def _move_reward(old: Reward | None, new: Reward | None) -> None:
    if new is not None:
        _claim(new)
    if old is not None:
        _release(old)


def _lock(session: Session, model: type[User] | type[Pledge], row_id: int) -> None:
    """Lock one row (FOR NO KEY UPDATE) and refresh the session's copy of it."""
    stmt = (select(model).where(model.id == row_id).with_for_update(key_share=True)
            .execution_options(populate_existing=True))
    session.scalars(stmt).one()


def _insert_open_pledge(session: Session, pledge: Pledge, project: Project, backer: User) -> None:
    """Insert the pledge; should the unique index find another open one (a writer that skipped the backer's
    row lock), the transaction is rolled back and PledgeExists names that one, as the check under the lock
    does: never an IntegrityError."""
    session.add(pledge)
    try:
        session.flush()
    except IntegrityError as error:
        if not _violates_one_open_pledge(error):
            raise
        session.rollback()  # the failed flush leaves nothing usable; the other pledge is committed
        if (existing := open_pledge(session, project, backer)) is None:
            raise PledgeInvalid({"project": "already_backed"}) from error
        raise PledgeExists(existing) from error


def _violates_one_open_pledge(error: IntegrityError) -> bool:
    """Tell whether an IntegrityError is the one-open-pledge index (PostgreSQL names it, SQLite its columns)."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:
        return constraint == ONE_OPEN_PLEDGE_INDEX
    text = str(error.orig)
    return "UNIQUE" in text and "pledges.project_id, pledges.backer_id" in text


def _customer_id(session: Session, gateway: PaymentGateway, backer: User) -> str:
    """Return the backer's provider customer, creating it once (the caller holds the backer's row lock)."""
    stmt = select(PaymentCustomer.customer_id).where(PaymentCustomer.user_id == backer.id,
                                                     PaymentCustomer.provider == PROVIDER)
    if (found := session.scalar(stmt)) is not None:
        return found
    ref = _provider(gateway.create_customer, email=backer.email, name=backer.name,
                    idempotency_key=f"customer-user-{backer.id}", metadata={"user_id": str(backer.id)})
    session.add(PaymentCustomer(user_id=backer.id, provider=PROVIDER, customer_id=ref.id))
    session.flush()
    return ref.id


def _provider(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return call(*args, **kwargs)
    except ProviderUnavailable as error:
        raise PaymentProviderError(f"The payment provider is unavailable: {error}", unavailable=True) from error
    except PaymentError as error:
        raise PaymentProviderError(f"The payment provider refused: {error}", unavailable=False) from error
