"""`seed-demo` adds demo pledges through the configured provider (localstripe here), so that `settle` charges
them; without a provider it adds none and says so; a second run adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import func, select

from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services.demo import seed_demo_pledges
from crowdfund.services.demo_content import DEMO_PLEDGES, ENDED_PITCH
from crowdfund.services.pledges import PledgeRules
from payments.stripe_gateway import StripeGateway

ENDED = "trinkbrunnen-am-koenigsplatz"


@pytest.fixture
def stripe_app(app, app_factory, localstripe):  # `app` wipes the database afterwards
    return app_factory(STRIPE_SECRET_KEY="sk_test_localstripe", STRIPE_PUBLISHABLE_KEY="pk_test_localstripe",
                       STRIPE_API_BASE=localstripe, STRIPE_WEBHOOK_SECRET="whsec_test")


def pledge_rows(session) -> list[Pledge]:
    session.expire_all()
    return list(session.scalars(select(Pledge).order_by(Pledge.id)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_demo_saves_cards_at_localstripe_and_settle_charges_the_ended_campaign(stripe_app, localstripe):
    runner = stripe_app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "created 4 backers, 1 projects" in first.output and f"{len(DEMO_PLEDGES)} pledges" in first.output
    assert "flask --app wsgi settle" in first.output and "mara@demo.crowdfunding-kassel.de" in first.output
    session = stripe_app.extensions["db_sessionmaker"]()
    try:
        rows = pledge_rows(session)
        assert len(rows) == len(DEMO_PLEDGES) and {p.status for p in rows} == {"active"}
        gateway = StripeGateway("sk_test_localstripe", api_base=localstripe)
        for pledge in rows:  # the provider's word, not ours: each SetupIntent succeeded and names its pledge
            setup = gateway.retrieve_setup_intent(pledge.setup_intent_id)
            assert setup.succeeded and setup.metadata["pledge_id"] == str(pledge.id)
            assert pledge.payment_method_id == setup.payment_method_id and pledge.customer_id
        ended = session.scalars(select(Project).where(Project.slug == ENDED)).one()
        assert ended.state == "live" and ended.deadline < datetime.now(UTC)
        on_ended = [p for p in rows if p.project_id == ended.id]
        assert sum(p.amount_cents for p in on_ended) >= ended.threshold_cents == ENDED_PITCH.threshold_eur * 100
        bottle = session.scalars(select(Reward).where(Reward.project_id == ended.id)).one()
        assert bottle.quantity_claimed == 2

        second = runner.invoke(args=["seed-demo"])
        assert second.exit_code == 0 and "Demo pledges (through the payment provider): created nothing new" in (
            second.output)
        assert len(pledge_rows(session)) == len(DEMO_PLEDGES) and count(session, User) == 5 + 4

        settled = runner.invoke(args=["settle"])
        assert settled.exit_code == 0, settled.output
        session.expire_all()
        assert session.get(Project, ended.id).state == "funded"
        statuses = Counter(p.status for p in pledge_rows(session) if p.project_id == ended.id)
        assert statuses == Counter({"paid": 4, "action_required": 1})  # 4000000000000341 declines at the charge
        stripe.api_key, stripe.api_base = "sk_test_localstripe", localstripe
        intents = Counter(pi.metadata["pledge_id"] for pi in stripe.PaymentIntent.list(limit=100).auto_paging_iter())
        assert set(intents) == {str(p.id) for p in on_ended} and set(intents.values()) == {1}
        others = [p for p in pledge_rows(session) if p.project_id != ended.id]
        assert {p.status for p in others} == {"active"}  # their campaigns still run
    finally:
        session.close()


def test_without_a_provider_seed_demo_adds_no_pledges_and_says_so(runner, session):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "No payment provider is configured" in result.output
    assert count(session, Pledge) == 0 and session.scalar(select(Project.id).where(Project.slug == ENDED)) is None


def test_with_real_stripe_keys_no_demo_pledge_is_made(app_factory, session):
    app = app_factory(STRIPE_SECRET_KEY="sk_test_not_real", STRIPE_PUBLISHABLE_KEY="pk_test_not_real")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "never at real Stripe: none were added" in result.output
    assert count(session, Pledge) == 0


def test_an_unreachable_provider_adds_nothing(app_factory, session):
    app = app_factory(STRIPE_SECRET_KEY="sk_test_localstripe", STRIPE_API_BASE="http://127.0.0.1:9")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "did not answer, so no demo pledges were added" in result.output
    assert count(session, Pledge) == 0 and count(session, User) == 5
    assert session.scalar(select(Project.id).where(Project.slug == ENDED)) is None


def test_a_pledge_left_pending_by_an_interrupted_run_is_confirmed_by_the_next(stripe_app, localstripe):
    runner = stripe_app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    session = stripe_app.extensions["db_sessionmaker"]()
    try:
        gateway = StripeGateway("sk_test_localstripe", api_base=localstripe)
        first = pledge_rows(session)[0]
        fresh = gateway.create_setup_intent(customer_id=first.customer_id, payment_method_types=["card"],
                                            metadata={"pledge_id": str(first.id)}, idempotency_key="x")
        first.status, first.setup_intent_id, first.payment_method_id = "pending_setup", fresh.id, None
        session.commit()
        from payments.localstripe_admin import confirm_card_setup

        report = seed_demo_pledges(session, gateway, lambda secret, card: confirm_card_setup(localstripe, secret, card),
                                   rules=PledgeRules(100, 1_000_000, ("card",)))
        assert report.created == {"pledges": 1} and not report.problems
        session.expire_all()
        assert session.get(Pledge, first.id).status == "active" and len(pledge_rows(session)) == len(DEMO_PLEDGES)
    finally:
        session.close()
