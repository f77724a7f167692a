"""The pledge transition table, checked pair by pair against a table written out here by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from crowdfund.domain.pledges import (
    COUNTING,
    AmountProblem,
    IllegalPledgeTransition,
    PledgeAction,
    PledgeStatus,
    check_amount,
    fix_window_over,
    idempotency_key,
    is_repeat,
    match_amount,
    next_status,
)

S, A = PledgeStatus, PledgeAction
EXPECTED = {
    (S.PENDING_SETUP, A.CONFIRM_SETUP): S.ACTIVE,
    (S.PENDING_SETUP, A.CANCEL): S.CANCELLED,
    (S.PENDING_SETUP, A.RELEASE): S.RELEASED,
    (S.ACTIVE, A.CANCEL): S.CANCELLED,
    (S.ACTIVE, A.RELEASE): S.RELEASED,
    (S.ACTIVE, A.START_CHARGE): S.CHARGING,
    (S.CHARGING, A.MARK_PROCESSING): S.PROCESSING,
    (S.CHARGING, A.MARK_PAID): S.PAID,
    (S.CHARGING, A.REQUIRE_ACTION): S.ACTION_REQUIRED,
    (S.PROCESSING, A.MARK_PAID): S.PAID,
    (S.PROCESSING, A.REQUIRE_ACTION): S.ACTION_REQUIRED,
    (S.ACTION_REQUIRED, A.MARK_PAID): S.PAID,
    (S.ACTION_REQUIRED, A.RETRY): S.CHARGING,
    (S.ACTION_REQUIRED, A.FAIL): S.FAILED,
    (S.PAID, A.REFUND_PART): S.PARTIALLY_REFUNDED,
    (S.PAID, A.REFUND_ALL): S.REFUNDED,
    (S.PARTIALLY_REFUNDED, A.REFUND_PART): S.PARTIALLY_REFUNDED,
    (S.PARTIALLY_REFUNDED, A.REFUND_ALL): S.REFUNDED,
}
REPEATS = {
    (S.ACTIVE, A.CONFIRM_SETUP), (S.CANCELLED, A.CANCEL), (S.RELEASED, A.RELEASE), (S.CHARGING, A.START_CHARGE),
    (S.PROCESSING, A.MARK_PROCESSING), (S.PAID, A.MARK_PAID), (S.ACTION_REQUIRED, A.REQUIRE_ACTION),
    (S.CHARGING, A.RETRY), (S.FAILED, A.FAIL), (S.REFUNDED, A.REFUND_ALL),
}
ALL_PAIRS = [(s, a) for s in S for a in A]


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_every_status_and_action_pair_follows_the_table(status, action):
    if (status, action) in EXPECTED:
        assert next_status(status, action) == EXPECTED[(status, action)]
        assert not is_repeat(status, action) or (status, action) == (S.PARTIALLY_REFUNDED, A.REFUND_PART)
    elif (status, action) in REPEATS:
        assert next_status(status, action) == status and is_repeat(status, action)
    else:
        with pytest.raises(IllegalPledgeTransition, match=f"status '{status}' cannot"):
            next_status(status, action)


def test_only_pledges_that_may_still_bring_money_count_toward_the_campaign():
    assert S.ACTIVE in COUNTING and S.PAID in COUNTING
    assert not COUNTING & {S.PENDING_SETUP, S.CANCELLED, S.RELEASED, S.FAILED, S.REFUNDED}


@pytest.mark.parametrize(("amount", "reward_min", "problem"), [
    (99, None, AmountProblem.TOO_SMALL), (100, None, None), (1_000_000, None, None),
    (1_000_001, None, AmountProblem.TOO_LARGE), (2_000, 2_500, AmountProblem.BELOW_REWARD), (2_500, 2_500, None),
])
def test_pledge_amounts_are_checked_against_minimum_maximum_and_reward(amount, reward_min, problem):
    assert check_amount(amount, minimum_cents=100, maximum_cents=1_000_000, reward_minimum_cents=reward_min) == problem


def test_fix_window_ends_after_the_configured_days():
    start = datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert not fix_window_over(start, start + timedelta(days=7) - timedelta(seconds=1), 7)
    assert fix_window_over(start, start + timedelta(days=7), 7)


def test_idempotency_keys_derive_from_the_pledge_and_are_stable():
    assert idempotency_key(42, "charge") == idempotency_key(42, "charge") == "pledge-42-charge-1"
    assert idempotency_key(42, "charge", 2) != idempotency_key(43, "charge", 2)


NO_CAPS = {"ratio_percent": 100, "cap_per_pledge": None, "room_project": None, "room_backer": None,
           "room_budget": 10**9}


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, 5_000),
    ({"ratio_percent": 50}, 2_500),
    ({"cap_per_pledge": 2_000}, 2_000),
    ({"room_project": 1_500}, 1_500),
    ({"room_backer": 700}, 700),
    ({"room_budget": 300}, 300),
    ({"room_budget": 0}, 0),
    ({"room_project": -5, "room_budget": 100}, 0),
])
def test_match_is_ratio_times_amount_within_every_cap_and_the_budget(changes, expected):
    assert match_amount(5_000, **{**NO_CAPS, **changes}) == expected
