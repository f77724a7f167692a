"""Settlement against localstripe, which ignores idempotency keys: PaymentIntents are counted per pledge at the
provider, so only our own records can keep it at one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services.settlement import settle
from payments.stripe_gateway import StripeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign

VISA, DECLINED_WHEN_CHARGED, THREE_D_SECURE = "4242424242424242", "4000000000000341", "4000002760003184"


@pytest.fixture
def run(app, stripe_gateway):
    def run_settle(gateway: object = None):
        return settle(app.extensions["db_sessionmaker"], gateway or stripe_gateway, now=datetime.now(UTC),
                      fix_window_days=7, notify=lambda n: None)

    return run_settle


def campaign(session, stripe_gateway, localstripe, cards, threshold=1_000, amount=2_000):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=threshold)
    pledges = [make_active_pledge(session, project, make_backer(session), amount, stripe_gateway,
                                  localstripe_url=localstripe, card=card) for card in cards]
    return project, pledges


def intents(gateway: StripeGateway, pledges) -> list[list[str]]:
    """The PaymentIntents localstripe holds for each pledge (their statuses)."""
    return [sorted(pi.status for pi in gateway.find_payment_intents(metadata_key="pledge_id",
                                                                    metadata_value=str(p.id))) for p in pledges]


def statuses(session, pledges) -> list[str]:
    session.expire_all()
    return [session.get(Pledge, p.id).status for p in pledges]


def test_a_funded_campaign_makes_one_payment_intent_per_pledge_even_when_forced_to_run_again(
        session, localstripe, stripe_gateway, run):
    _project, pledges = campaign(session, stripe_gateway, localstripe, [VISA] * 3)

    run()
    assert intents(stripe_gateway, pledges) == [["succeeded"]] * 3
    # Forced rerun: pretend every outcome was lost after the charge (the worst case for localstripe).
    session.execute(update(PaymentAttempt).values(status="unknown"))
    session.execute(update(Pledge).values(status="charging"))
    session.execute(LedgerEntry.__table__.delete())
    session.commit()

    report = run()

    assert report.recovered == 3 and statuses(session, pledges) == ["paid"] * 3
    assert intents(stripe_gateway, pledges) == [["succeeded"]] * 3
    assert run().charged == 0 and intents(stripe_gateway, pledges) == [["succeeded"]] * 3
    total = session.scalar(select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "charge"))
    assert total == 6_000


def test_a_campaign_that_is_not_funded_creates_no_payment_intent(session, localstripe, stripe_gateway, run):
    project, pledges = campaign(session, stripe_gateway, localstripe, [VISA, VISA], threshold=100_000)

    run()

    session.expire_all()
    assert session.get(Project, project.id).state == "not_funded"
    assert intents(stripe_gateway, pledges) == [[], []] and statuses(session, pledges) == ["released"] * 2


def test_a_card_declined_when_charged_and_a_3ds_card_need_their_backers(session, localstripe, stripe_gateway, run):
    _project, pledges = campaign(session, stripe_gateway, localstripe, [DECLINED_WHEN_CHARGED, THREE_D_SECURE])

    report = run()

    assert report.action_required == 2 and statuses(session, pledges) == ["action_required"] * 2
    assert intents(stripe_gateway, pledges) == [["requires_payment_method"], ["requires_action"]]
    session.expire_all()
    assert all(session.get(Pledge, p.id).payment_intent_id for p in pledges)  # kept for the backer's page
    run()
    assert len(intents(stripe_gateway, pledges)[0]) == 1


class DiesAfterCharging:
    def __init__(self, inner: StripeGateway) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs):
        self.calls += 1
        info = self.inner.charge_off_session(**kwargs)
        if self.calls == 2:
            raise SystemExit("died after the provider charged, before our commit")
        return info


def test_a_run_that_died_after_a_charge_is_completed_by_the_next_with_one_payment_intent_each(
        session, localstripe, stripe_gateway, run):
    _project, pledges = campaign(session, stripe_gateway, localstripe, [VISA] * 4)
    with pytest.raises(SystemExit):
        run(DiesAfterCharging(stripe_gateway))
    assert statuses(session, pledges) == ["charging"] * 4  # the batch's attempts were committed, no outcome

    run()

    assert statuses(session, pledges) == ["paid"] * 4
    assert intents(stripe_gateway, pledges) == [["succeeded"]] * 4
