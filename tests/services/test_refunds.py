"""Refunds: provider first, ledger second; full, partial, never more than paid, none after a payout, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services import ledger
from crowdfund.services.refunds import RefundRefused, next_sequence, payout_approved, refund_pledge
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from payments.gateway import ProviderUnavailable
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def paid(app, session, fake) -> Pledge:
    """A pledge of 50 EUR, charged at settlement."""
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 5_000, fake)
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    pledge = session.get(Pledge, pledge.id)
    assert pledge.status == "paid"
    return pledge


@pytest.fixture
def refund(session, fake, paid):
    def do(amount_cents: int | None, sequence: int | None = None, gateway: object = None):
        seq = sequence if sequence is not None else next_sequence(session, paid.id)
        done = refund_pledge(session, gateway or fake, paid.id, amount_cents=amount_cents, sequence=seq, actor_id=None)
        session.commit()
        return done

    return do


def refund_lines(session, pledge_id: int) -> list[int]:
    return list(session.scalars(select(LedgerEntry.amount_cents).where(
        LedgerEntry.pledge_id == pledge_id, LedgerEntry.kind == "refund").order_by(LedgerEntry.id)))


def test_a_full_refund_goes_to_the_provider_then_to_the_ledger(session, fake, paid, refund):
    done = refund(None)

    pledge = session.get(Pledge, paid.id)
    assert (pledge.status, pledge.refunded_cents) == ("refunded", 5_000)
    assert fake.refunded_cents(pledge.payment_intent_id) == 5_000
    assert (done.entry.amount_cents, done.entry.provider_ref) == (-5_000, next(iter(fake.refunds)))
    assert done.entry.idempotency_key == f"pledge-{paid.id}-refund-1"
    assert [(n.kind, n.amount_cents) for n in done.notices] == [("refund_made", 5_000)]
    assert ledger.project_balance(session, paid.project_id) == 0


def test_a_partial_refund_then_the_rest(session, fake, paid, refund):
    refund(1_250)
    assert session.get(Pledge, paid.id).status == "partially_refunded"

    refund(None)

    pledge = session.get(Pledge, paid.id)
    assert (pledge.status, pledge.refunded_cents) == ("refunded", 5_000)
    assert refund_lines(session, paid.id) == [-1_250, -3_750]
    assert ledger.project_totals(session, paid.project_id) == {"charge": 5_000, "refund": -5_000}
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "pledge",
                                                              AuditEntry.entity_id == paid.id)).all()
    assert actions[-2:] == ["refund_part", "refund_all"]


@pytest.mark.parametrize("amount", [5_001, 0, -100])
def test_more_than_was_paid_or_nothing_is_refused_before_the_provider_is_asked(session, fake, paid, refund, amount):
    with pytest.raises(RefundRefused) as refused:
        refund(amount)
    assert refused.value.code == "amount" and fake.refunds == {} and "refund" not in fake.calls


def test_once_refunded_in_full_nothing_more_can_be_refunded(session, fake, paid, refund):
    refund(None)
    session.rollback()
    with pytest.raises(RefundRefused) as refused:
        refund(1)
    assert refused.value.code == "not_paid" and len(fake.refunds) == 1


def test_no_refund_after_the_payout_was_approved(session, fake, paid, refund):
    ledger.post_entry(session, kind="payout", amount_cents=-5_000, project_id=paid.project_id, provider_ref=None,
                      idempotency_key=f"payout-{paid.project_id}", actor_id=None)
    session.commit()
    assert payout_approved(session, paid.project_id)

    with pytest.raises(RefundRefused) as refused:
        refund(1_000)
    assert refused.value.code == "payout" and fake.refunds == {}


def test_the_same_refund_sent_twice_refunds_once(session, fake, paid, refund):
    first = refund(2_000, sequence=1)
    second = refund(2_000, sequence=1)

    assert second.repeated and second.entry.id == first.entry.id and second.notices == []
    assert len(fake.refunds) == 1 and refund_lines(session, paid.id) == [-2_000]
    assert session.get(Pledge, paid.id).refunded_cents == 2_000


def test_a_form_shown_before_another_refund_is_refused_as_stale(session, fake, paid, refund):
    refund(1_000, sequence=1)
    with pytest.raises(RefundRefused) as refused:
        refund(1_000, sequence=3)
    assert refused.value.code == "stale" and len(fake.refunds) == 1


def test_a_pledge_that_was_never_charged_cannot_be_refunded(app, session, fake):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 2_000, fake)
    with pytest.raises(RefundRefused) as refused:
        refund_pledge(session, fake, pledge.id, amount_cents=None, sequence=1, actor_id=None)
    assert refused.value.code == "not_paid"


def test_a_refund_whose_answer_was_lost_is_sent_again_with_the_same_key(session, fake, paid):
    fake.honour_idempotency_keys = True  # as real Stripe does: the repeated key replays the first refund
    fake.fail_next(1, when="after", method="refund")

    with pytest.raises(ProviderUnavailable):
        refund_pledge(session, fake, paid.id, amount_cents=1_000, sequence=1, actor_id=None)
    session.rollback()
    done = refund_pledge(session, fake, paid.id, amount_cents=1_000, sequence=1, actor_id=None)
    session.commit()

    assert len(fake.refunds) == 1 and done.entry.provider_ref == next(iter(fake.refunds))
    assert refund_lines(session, paid.id) == [-1_000]
