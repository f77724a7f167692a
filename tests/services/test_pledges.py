"""Pledge use cases against the in-process fake gateway: amounts, rewards, the provider's word, audit rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.payments import PaymentCustomer
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from crowdfund.services import pledges
from crowdfund.services.audit import history
from crowdfund.services.pledges import ConfirmOutcome, PledgeRules
from payments.fake import FakeGateway
from tests.factories import make_pledge_world, make_reward, make_user

RULES = PledgeRules(min_cents=100, max_cents=1_000_000, payment_method_types=("card", "sepa_debit"))


class RecordingGateway(FakeGateway):
    """The fake, remembering the keyword arguments of every SetupIntent it was asked to create."""

    def __init__(self) -> None:
        super().__init__()
        self.setup_calls: list[dict] = []

    def create_setup_intent(self, **kwargs):
        self.setup_calls.append(kwargs)
        return super().create_setup_intent(**kwargs)


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def campaign_world(session):
    return make_pledge_world(session)


@pytest.fixture
def world(campaign_world):
    _world, project, reward, backer = campaign_world
    return project, reward, backer


@pytest.fixture
def other(session, campaign_world):
    """A second live campaign with its own reward, in the same contest."""
    _world, project, reward, _backer = make_pledge_world(session, world=campaign_world[0])
    return project, reward


def now() -> datetime:
    return datetime.now(UTC)


def start(session, gateway, project, backer, amount_cents=2_500, reward=None, **options):
    values = {"reward_id": reward.id if reward else None, "anonymous": False, "message": "",
              "payment_method_type": "card", "now": now(), "rules": RULES, **options}
    started = pledges.start_pledge(session, gateway, project=project, backer=backer, amount_cents=amount_cents,
                                   **values)
    session.commit()
    return started


def confirmed(session, gateway, project, backer, **options) -> Pledge:
    started = start(session, gateway, project, backer, **options)
    gateway.confirm_setup_intent(started.setup_intent.id, "pm_card_visa")
    result = pledges.confirm_pledge(session, gateway, started.pledge, actor_id=backer.id, now=now())
    assert result.outcome == ConfirmOutcome.ACTIVATED
    session.commit()
    return started.pledge


def claimed(session, reward) -> int:
    session.expire_all()
    return session.get(Reward, reward.id).quantity_claimed


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# -- starting ---------------------------------------------------------------------------------------------
def test_a_new_pledge_is_pending_with_a_setup_intent_that_names_it(session, gateway, world):
    project, reward, backer = world
    started = start(session, gateway, project, backer, 2_500, reward)
    pledge = started.pledge
    assert (pledge.status, pledge.amount_cents, pledge.reward_id) == ("pending_setup", 2_500, reward.id)
    assert pledge.setup_intent_id == started.setup_intent.id and pledge.customer_id.startswith("cus_")
    call = gateway.setup_calls[0]
    assert call["metadata"] == {"pledge_id": str(pledge.id)}
    assert call["idempotency_key"] == f"pledge-{pledge.id}-setup-1"
    assert call["payment_method_types"] == ["card"] and call["customer_id"] == pledge.customer_id
    assert claimed(session, reward) == 1


@pytest.mark.parametrize(("amount", "reward_min", "code"), [
    (99, None, "too_small"), (1_000_001, None, "too_large"), (1_999, 2_000, "below_reward"),
])
def test_amounts_outside_the_rules_are_refused_with_the_field_named(session, gateway, world, amount, reward_min,
                                                                   code):
    project, reward, backer = world
    with pytest.raises(pledges.PledgeInvalid) as caught:
        start(session, gateway, project, backer, amount, reward if reward_min else None)
    session.rollback()
    assert caught.value.errors == {"amount_cents": code}
    assert count(session, Pledge) == 0 and gateway.calls == []


def test_the_smallest_and_largest_amounts_are_accepted(session, gateway, world):
    project, _reward, backer = world
    assert start(session, gateway, project, backer, 100).pledge.amount_cents == 100
    other = make_user(session)
    assert start(session, gateway, project, other, 1_000_000).pledge.amount_cents == 1_000_000


def test_a_reward_of_another_project_is_refused(session, gateway, world, other):
    project, _reward, backer = world
    _other_project, foreign = other
    with pytest.raises(pledges.PledgeInvalid) as caught:
        start(session, gateway, project, backer, 5_000, foreign)
    assert caught.value.errors == {"reward_id": "unknown"}


def test_an_unoffered_payment_method_type_and_a_long_message_are_refused(session, gateway, world):
    project, _reward, backer = world
    card_only = PledgeRules(100, 1_000_000, ("card",))
    with pytest.raises(pledges.PledgeInvalid) as caught:
        start(session, gateway, project, backer, payment_method_type="sepa_debit", rules=card_only)
    assert caught.value.errors == {"payment_method_type": "unknown"}
    with pytest.raises(pledges.PledgeInvalid) as caught:
        start(session, gateway, project, backer, message="x" * 501)
    assert caught.value.errors == {"message": "too_long"}


@pytest.mark.parametrize("change", [{"state": "ended"}, {"deadline": "past"}, {"state": "approved"}])
def test_a_project_that_is_not_live_before_its_deadline_takes_no_pledge(session, gateway, world, change):
    project, _reward, backer = world
    if change.get("deadline") == "past":
        project.deadline = now() - timedelta(seconds=1)
    else:
        project.state = change["state"]
    session.commit()
    with pytest.raises(pledges.PledgeClosed):
        start(session, gateway, project, backer)
    assert gateway.calls == []


def test_a_sold_out_reward_is_refused_before_any_provider_call(session, gateway, world):
    project, reward, backer = world
    reward.quantity_claimed = reward.quantity_total
    session.commit()
    with pytest.raises(pledges.RewardSoldOut) as caught:
        start(session, gateway, project, backer, 2_500, reward)
    assert caught.value.errors == {"reward_id": "sold_out"} and gateway.calls == []


def test_the_last_unit_goes_to_one_backer_only(session, gateway, world):
    project, reward, backer = world
    reward.quantity_claimed = reward.quantity_total - 1
    session.commit()
    start(session, gateway, project, backer, 2_500, reward)
    with pytest.raises(pledges.RewardSoldOut):
        start(session, gateway, project, make_user(session), 2_500, reward)
    session.rollback()
    assert claimed(session, reward) == reward.quantity_total


def test_an_unlimited_reward_is_never_sold_out(session, gateway, world):
    project, _reward, _backer = world
    unlimited = make_reward(session, project, title="Thanks", min_amount_cents=500, quantity_total=None)
    for _ in range(3):
        start(session, gateway, project, make_user(session), 500, unlimited)
    assert claimed(session, unlimited) == 3


def test_a_backer_has_one_open_pledge_per_project(session, gateway, world):
    project, _reward, backer = world
    first = start(session, gateway, project, backer).pledge
    with pytest.raises(pledges.PledgeExists) as caught:
        start(session, gateway, project, backer, 5_000)
    session.rollback()
    assert caught.value.pledge.id == first.id and count(session, Pledge) == 1
    pledges.cancel_pledge(session, first, actor_id=backer.id, now=now())
    session.commit()
    assert start(session, gateway, project, backer, 5_000).pledge.id != first.id


def test_the_provider_customer_is_created_once_per_backer(session, gateway, world, other):
    project, _reward, backer = world
    first = start(session, gateway, project, backer).pledge
    other_project, _r = other
    second = start(session, gateway, other_project, backer).pledge
    assert first.customer_id == second.customer_id
    assert gateway.calls.count("create_customer") == 1 and count(session, PaymentCustomer) == 1


@pytest.mark.parametrize("method", ["create_customer", "create_setup_intent"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_an_unavailable_provider_leaves_nothing_written(session, gateway, world, method, when):
    project, reward, backer = world
    gateway.fail_next(method=method, when=when)
    with pytest.raises(pledges.PaymentProviderError) as caught:
        start(session, gateway, project, backer, 2_500, reward)
    session.rollback()
    assert caught.value.unavailable
    pledge_audit = session.scalar(select(func.count()).where(AuditEntry.entity_type == "pledge"))
    assert count(session, Pledge) == count(session, PaymentCustomer) == pledge_audit == 0
    assert claimed(session, reward) == 0
    started = start(session, gateway, project, backer, 2_500, reward)  # and a retry works
    assert started.pledge.status == "pending_setup" and claimed(session, reward) == 1


# -- confirming ---------------------------------------------------------------------------------------------
def test_confirm_activates_only_after_the_provider_reports_success(session, gateway, world):
    project, _reward, backer = world
    started = start(session, gateway, project, backer)
    pledge = started.pledge
    result = pledges.confirm_pledge(session, gateway, pledge, actor_id=backer.id, now=now())
    assert (result.outcome, pledge.status, result.setup_intent_status) == ("failed", "pending_setup",
                                                                         "requires_payment_method")
    gateway.confirm_setup_intent(started.setup_intent.id, "pm_card_visa")
    result = pledges.confirm_pledge(session, gateway, pledge, actor_id=backer.id, now=now())
    session.commit()
    assert (result.outcome, pledge.status) == (ConfirmOutcome.ACTIVATED, "active")
    assert (pledge.payment_method_id, pledge.payment_method_type) == ("pm_card_visa", "card")
    assert gateway.calls.count("retrieve_setup_intent") == 2


def test_a_repeated_confirm_changes_nothing_and_writes_no_second_audit_row(session, gateway, world):
    project, _reward, backer = world
    pledge = confirmed(session, gateway, project, backer)
    result = pledges.confirm_pledge(session, gateway, pledge, actor_id=backer.id, now=now())
    assert result.outcome == ConfirmOutcome.ALREADY_ACTIVE
    actions = [(e.action, e.from_state, e.to_state, e.actor_id) for e in history(session, "pledge", pledge.id)]
    assert actions == [("start", None, "pending_setup", backer.id), ("confirm_setup", "pending_setup", "active",
                                                                      backer.id)]


def test_a_declined_setup_is_reported_and_the_pledge_stays_pending(session, gateway, world):
    project, _reward, backer = world
    started = start(session, gateway, project, backer)
    gateway.confirm_setup_intent(started.setup_intent.id, "pm_card_visa", succeed=False)
    result = pledges.confirm_pledge(session, gateway, started.pledge, actor_id=backer.id, now=now())
    assert result.outcome == ConfirmOutcome.FAILED and result.error == "Your card was declined."
    assert started.pledge.status == "pending_setup"


@pytest.mark.parametrize("status", ["requires_action", "processing"])
def test_a_setup_still_in_progress_leaves_the_pledge_pending(session, gateway, world, status):
    from dataclasses import replace

    project, _reward, backer = world
    started = start(session, gateway, project, backer)
    si = gateway.setup_intents[started.setup_intent.id]
    gateway.setup_intents[si.id] = replace(si, status=status)
    result = pledges.confirm_pledge(session, gateway, started.pledge, actor_id=backer.id, now=now())
    assert result.outcome == ConfirmOutcome.PENDING and started.pledge.status == "pending_setup"


def test_a_cancelled_setup_intent_is_replaced_once_for_the_next_attempt(session, gateway, world):
    from dataclasses import replace

    project, _reward, backer = world
    started = start(session, gateway, project, backer)
    old = started.setup_intent.id
    gateway.setup_intents[old] = replace(gateway.setup_intents[old], status="canceled")
    fresh = pledges.payment_setup(session, gateway, started.pledge, now=now())
    again = pledges.payment_setup(session, gateway, started.pledge, now=now())
    assert fresh.id != old and again.id == fresh.id == started.pledge.setup_intent_id
    assert gateway.setup_calls[-1]["idempotency_key"] == f"pledge-{started.pledge.id}-setup-after-{old}-1"
    assert gateway.setup_calls[-1]["metadata"] == {"pledge_id": str(started.pledge.id)}


def test_confirm_reserves_a_match_and_cancel_releases_it(session, gateway, world):
    project, _reward, backer = world
    session.add(MatchingPot(sponsor_name="Wirtschaftsförderung", budget_cents=100_000, ratio_percent=100))
    session.commit()
    pledge = confirmed(session, gateway, project, backer, amount_cents=3_000)
    match = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).one()
    assert (match.status, match.amount_cents) == ("reserved", 3_000)
    pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=now())
    session.commit()
    session.refresh(match)
    assert match.status == "released"


def test_confirm_after_the_deadline_is_refused(session, gateway, world):
    project, _reward, backer = world
    started = start(session, gateway, project, backer)
    gateway.confirm_setup_intent(started.setup_intent.id, "pm_card_visa")
    with pytest.raises(pledges.PledgeClosed):
        pledges.confirm_pledge(session, gateway, started.pledge, actor_id=backer.id, now=project.deadline)


# -- cancelling and changing ------------------------------------------------------------------------------
def test_cancel_gives_the_reward_unit_back_once(session, gateway, world):
    project, reward, backer = world
    pledge = confirmed(session, gateway, project, backer, reward=reward)
    assert claimed(session, reward) == 1
    assert pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=now(), reason="changed my mind")
    session.commit()
    assert not pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=now())
    session.commit()
    assert pledge.status == "cancelled" and claimed(session, reward) == 0
    last = history(session, "pledge", pledge.id)[-1]
    assert (last.action, last.from_state, last.to_state, last.actor_id, last.reason) == (
        "cancel", "active", "cancelled", backer.id, "changed my mind")
    assert last.created_at is not None


def test_a_pending_pledge_can_be_cancelled_too(session, gateway, world):
    project, reward, backer = world
    pledge = start(session, gateway, project, backer, 2_500, reward).pledge
    pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=now())
    session.commit()
    assert pledge.status == "cancelled" and claimed(session, reward) == 0


def test_nothing_can_be_cancelled_or_changed_after_the_deadline(session, gateway, world):
    project, reward, backer = world
    pledge = confirmed(session, gateway, project, backer, reward=reward)
    late = project.deadline + timedelta(minutes=1)
    with pytest.raises(pledges.PledgeClosed):
        pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=late)
    with pytest.raises(pledges.PledgeClosed):
        pledges.change_pledge(session, pledge, amount_cents=5_000, reward_id=None, now=late, rules=RULES,
                              actor_id=backer.id)
    session.rollback()
    assert (pledge.status, pledge.amount_cents, claimed(session, reward)) == ("active", 2_500, 1)


@pytest.mark.parametrize("status", ["charging", "paid", "released", "failed"])
def test_a_pledge_past_active_cannot_be_cancelled_or_changed(session, gateway, world, status):
    project, _reward, backer = world
    pledge = confirmed(session, gateway, project, backer)
    pledge.status = status  # as settlement would have left it
    session.commit()
    with pytest.raises(pledges.PledgeNotChangeable):
        pledges.cancel_pledge(session, pledge, actor_id=backer.id, now=now())
    with pytest.raises(pledges.PledgeNotChangeable):
        pledges.change_pledge(session, pledge, amount_cents=5_000, reward_id=None, now=now(), rules=RULES,
                              actor_id=backer.id)


def test_moving_to_another_reward_returns_the_old_unit_and_claims_the_new_one(session, gateway, world):
    project, reward, backer = world
    poster = make_reward(session, project, title="Poster", min_amount_cents=4_000, quantity_total=2)
    pledge = confirmed(session, gateway, project, backer, reward=reward)
    method = pledge.payment_method_id
    pledges.change_pledge(session, pledge, amount_cents=4_000, reward_id=poster.id, now=now(), rules=RULES,
                          actor_id=backer.id)
    session.commit()
    assert (claimed(session, reward), claimed(session, poster)) == (0, 1)
    assert (pledge.status, pledge.reward_id, pledge.amount_cents) == ("active", poster.id, 4_000)
    assert pledge.payment_method_id == method  # the saved method stays
    last = history(session, "pledge", pledge.id)[-1]
    assert (last.action, last.actor_id) == ("change", backer.id)


def test_a_change_below_the_rewards_minimum_or_to_a_sold_out_reward_changes_nothing(session, gateway, world):
    project, reward, backer = world
    gone = make_reward(session, project, title="Gone", min_amount_cents=1_000, quantity_total=1, quantity_claimed=1)
    pledge = confirmed(session, gateway, project, backer, reward=reward)
    with pytest.raises(pledges.PledgeInvalid) as caught:
        pledges.change_pledge(session, pledge, amount_cents=1_500, reward_id=reward.id, now=now(), rules=RULES,
                              actor_id=backer.id)
    assert caught.value.errors == {"amount_cents": "below_reward"}
    session.rollback()
    with pytest.raises(pledges.RewardSoldOut):
        pledges.change_pledge(session, pledge, amount_cents=2_500, reward_id=gone.id, now=now(), rules=RULES,
                              actor_id=backer.id)
    session.rollback()
    assert (claimed(session, reward), claimed(session, gone), pledge.reward_id) == (1, 1, reward.id)


def test_dropping_the_reward_gives_its_unit_back(session, gateway, world):
    project, reward, backer = world
    pledge = start(session, gateway, project, backer, 2_500, reward).pledge
    pledges.change_pledge(session, pledge, amount_cents=300, reward_id=None, now=now(), rules=RULES,
                          actor_id=backer.id)
    session.commit()
    assert (pledge.reward_id, pledge.amount_cents, claimed(session, reward)) == (None, 300, 0)


def test_a_new_amount_moves_the_reserved_match_with_it(session, gateway, world):
    project, _reward, backer = world
    session.add(MatchingPot(sponsor_name="Stadt", budget_cents=100_000, ratio_percent=50))
    session.commit()
    pledge = confirmed(session, gateway, project, backer, amount_cents=4_000)
    pledges.change_pledge(session, pledge, amount_cents=6_000, reward_id=None, now=now(), rules=RULES,
                          actor_id=backer.id)
    session.commit()
    match = session.scalars(select(Match).where(Match.pledge_id == pledge.id)).one()
    assert (match.status, match.amount_cents) == ("reserved", 3_000)


def test_a_backers_pledges_are_listed_newest_first(session, gateway, world, other):
    project, _reward, backer = world
    first = start(session, gateway, project, backer).pledge
    other_project, _r = other
    second = start(session, gateway, other_project, backer).pledge
    start(session, gateway, project, make_user(session))
    assert [p.id for p in pledges.backer_pledges(session, backer)] == [second.id, first.id]


def test_the_rules_come_from_the_settings_and_offer_only_types_the_gateway_can_save():
    rules = PledgeRules.from_config({"PLEDGE_MIN_CENTS": 100, "PLEDGE_MAX_CENTS": 5_000,
                                     "PAYMENT_METHOD_TYPES": "card, sepa_debit,paypal"})
    assert rules == PledgeRules(100, 5_000, ("card", "sepa_debit"))
