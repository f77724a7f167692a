"""The pledge lifecycle as one transition table, plus pure rules for amounts and settlement.

pending_setup -> active -> (cancelled) | charging -> paid | processing (SEPA) -> paid
| action_required -> paid | failed; active -> released (campaign not funded);
paid -> refunded | partially_refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class PledgeStatus(StrEnum):
    PENDING_SETUP = "pending_setup"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    RELEASED = "released"
    CHARGING = "charging"
    PROCESSING = "processing"
    ACTION_REQUIRED = "action_required"
    PAID = "paid"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class PledgeAction(StrEnum):
    CONFIRM_SETUP = "confirm_setup"
    CANCEL = "cancel"
    RELEASE = "release"
    START_CHARGE = "start_charge"
    MARK_PROCESSING = "mark_processing"
    MARK_PAID = "mark_paid"
    REQUIRE_ACTION = "require_action"
    RETRY = "retry"
    FAIL = "fail"
    REFUND_PART = "refund_part"
    REFUND_ALL = "refund_all"


class Rule(NamedTuple):
    sources: frozenset[PledgeStatus]
    target: PledgeStatus


_S = PledgeStatus
_A = PledgeAction

TRANSITIONS: Mapping[PledgeAction, Rule] = MappingProxyType({
    _A.CONFIRM_SETUP: Rule(frozenset({_S.PENDING_SETUP}), _S.ACTIVE),
    _A.CANCEL: Rule(frozenset({_S.PENDING_SETUP, _S.ACTIVE}), _S.CANCELLED),
    _A.RELEASE: Rule(frozenset({_S.ACTIVE, _S.PENDING_SETUP}), _S.RELEASED),
    _A.START_CHARGE: Rule(frozenset({_S.ACTIVE}), _S.CHARGING),
    _A.MARK_PROCESSING: Rule(frozenset({_S.CHARGING}), _S.PROCESSING),
    _A.MARK_PAID: Rule(frozenset({_S.CHARGING, _S.PROCESSING, _S.ACTION_REQUIRED}), _S.PAID),
    _A.REQUIRE_ACTION: Rule(frozenset({_S.CHARGING, _S.PROCESSING}), _S.ACTION_REQUIRED),
    _A.RETRY: Rule(frozenset({_S.ACTION_REQUIRED}), _S.CHARGING),
    _A.FAIL: Rule(frozenset({_S.ACTION_REQUIRED}), _S.FAILED),
    _A.REFUND_PART: Rule(frozenset({_S.PAID, _S.PARTIALLY_REFUNDED}), _S.PARTIALLY_REFUNDED),
    _A.REFUND_ALL: Rule(frozenset({_S.PAID, _S.PARTIALLY_REFUNDED}), _S.REFUNDED),
})

# Pledges in these states count toward a campaign's total and its backers.
COUNTING: frozenset[PledgeStatus] = frozenset(
    {_S.ACTIVE, _S.CHARGING, _S.PROCESSING, _S.ACTION_REQUIRED, _S.PAID, _S.PARTIALLY_REFUNDED}
)
# Pledges in these states hold a unit of their reward.
HOLDS_REWARD: frozenset[PledgeStatus] = COUNTING | {_S.PENDING_SETUP, _S.REFUNDED}
CHANGEABLE: frozenset[PledgeStatus] = frozenset({_S.PENDING_SETUP, _S.ACTIVE})


class IllegalPledgeTransition(Exception):
    """An action the pledge transition table does not allow from the pledge's status."""

    def __init__(self, status: PledgeStatus, action: PledgeAction) -> None:
        self.status, self.action = status, action
        super().__init__(f"A pledge in status '{status}' cannot {action.replace('_', ' ')}.")


def next_status(status: PledgeStatus | str, action: PledgeAction | str) -> PledgeStatus:
    """Return the status after `action`; a repeat keeps the status, anything unlisted raises.

    Refunding part of a partially refunded pledge is a real move, not a repeat."""
    status, action = PledgeStatus(status), PledgeAction(action)
    rule = TRANSITIONS[action]
    if status in rule.sources or status == rule.target:
        return rule.target
    raise IllegalPledgeTransition(status, action)


def is_repeat(status: PledgeStatus | str, action: PledgeAction | str) -> bool:
    """Tell whether `action` finds the pledge already in its target status (a no-op)."""
    rule = TRANSITIONS[PledgeAction(action)]
    return PledgeStatus(status) == rule.target and PledgeStatus(status) not in rule.sources


class AmountProblem(StrEnum):
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    BELOW_REWARD = "below_reward"


def check_amount(amount_cents: int, *, minimum_cents: int, maximum_cents: int,
                 reward_minimum_cents: int | None = None) -> AmountProblem | None:
    """Return what is wrong with a pledge amount, or None: at least the minimum (and the reward's
    minimum), at most the configured maximum."""
    if amount_cents < minimum_cents:
        return AmountProblem.TOO_SMALL
    if amount_cents > maximum_cents:
        return AmountProblem.TOO_LARGE
    if reward_minimum_cents is not None and amount_cents < reward_minimum_cents:
        return AmountProblem.BELOW_REWARD
    return None


def fix_window_over(action_required_at: datetime, now: datetime, days: int) -> bool:
    """Tell whether a pledge waiting for the backer's action has run out of time to be fixed."""
    return now >= action_required_at + timedelta(days=days)


def idempotency_key(pledge_id: int, purpose: str, attempt: int = 1) -> str:
    """Derive the provider idempotency key from our own pledge id: stable across reruns."""
    return f"pledge-{pledge_id}-{purpose}-{attempt}"


def match_amount(pledge_cents: int, *, ratio_percent: int, cap_per_pledge: int | None,
                 room_project: int | None, room_backer: int | None, room_budget: int) -> int:
    """Return the matched cents for a pledge: ratio x amount, never beyond any cap or the budget.

    `room_*` are what is left under each cap (None: no cap); the result is never negative."""
    wanted = pledge_cents * ratio_percent // 100
    limits = [room_budget, *(x for x in (cap_per_pledge, room_project, room_backer) if x is not None)]
    return max(0, min([wanted, *limits]))
