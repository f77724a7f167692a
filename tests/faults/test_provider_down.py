"""The payment provider unreachable, hanging or slow, during a pledge and during settlement (localstripe behind
a proxy that refuses connections, never answers, or answers after the client's timeout).

Decisions: a pledge whose start fails at the provider is not written at all (503, nothing saved, no reward unit
held); a pledge whose confirmation fails stays `pending_setup` and is confirmed by a retry once the provider is
back (or cancelled, which needs no provider). Settlement cut off mid-run charges every pledge exactly once when
run again: PaymentIntents are counted per pledge at localstripe, which ignores idempotency keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from crowdfund import create_app
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import PaymentCustomer
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from crowdfund.services.campaigns import campaign_totals
from crowdfund.services.settlement import settle
from payments.localstripe_admin import confirm_card_setup
from payments.stripe_gateway import StripeGateway
from tests.conftest import AuthActions, csrf_token, make_test_config, wipe
from tests.factories import (
    PASSWORD,
    make_active_pledge,
    make_api_token,
    make_backer,
    make_campaign_world,
    make_due_campaign,
    make_pledge_world,
)

TIMEOUT = "2"  # STRIPE_TIMEOUT_SECONDS: hang/slow cost this much per call; forward mode has a wide margin
DOWN_MODES = ["down", "hang", "slow"]


@pytest.fixture
def app(database_url, tmp_path, provider_proxy) -> Iterator[Flask]:
    """The app talking to localstripe through the proxy, with a short provider timeout."""
    application = create_app(make_test_config(
        database_url, tmp_path / "instance", STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_x",
        STRIPE_API_BASE=provider_proxy.url, STRIPE_TIMEOUT_SECONDS=TIMEOUT))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def world(session):
    """A live campaign whose only reward has one unit: a unit held by mistake would sell it out."""
    _world, project, reward, backer = make_pledge_world(session, quantity_total=1, min_amount_cents=1_000)
    return project, reward, backer, {"Authorization": f"Bearer {make_api_token(session, backer)}"}


def start(client, project, token, reward):
    return client.post(f"/api/v1/projects/{project.slug}/pledges", headers=token,
                       json={"amount_cents": 2_500, "reward_id": reward.id})


def written(session) -> tuple[int, int, int, int]:
    """(pledges, provider customers, claimed reward units, pledge audit rows) in the database."""
    session.expire_all()
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    claimed = session.scalar(select(func.sum(Reward.quantity_claimed)))
    audits = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "pledge"))
    return count(Pledge), count(PaymentCustomer), claimed, audits


@pytest.mark.parametrize("mode", DOWN_MODES)
def test_a_pledge_started_while_the_provider_fails_saves_nothing_and_works_once_it_is_back(
        client, session, world, provider_proxy, localstripe, mode):
    project, reward, _backer, token = world
    provider_proxy.set_mode(mode)

    failed = start(client, project, token, reward)

    assert failed.status_code == 503
    assert failed.get_json()["message"] == "The payment provider failed; nothing was saved. Please try again later."
    assert written(session) == (0, 0, 0, 0)
    assert provider_proxy.accepted >= (0 if mode == "down" else 1)  # the request did go out (hang, slow)

    provider_proxy.set_mode("forward")
    body = start(client, project, token, reward).get_json()
    confirm_card_setup(localstripe, body["client_secret"])  # the browser talks to the provider directly
    confirmed = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token)
    assert confirmed.get_json()["status"] == "active"
    assert written(session) == (1, 1, 1, 2)  # start + confirm audited; the single reward unit is this pledge's
    assert campaign_totals(session, project.id) == (2_500, 1)


@pytest.mark.parametrize("mode", DOWN_MODES)
def test_a_confirmation_while_the_provider_fails_keeps_the_pledge_pending_for_a_retry(
        client, session, world, provider_proxy, localstripe, mode):
    project, _reward, _backer, token = world
    body = start(client, project, token, world[1]).get_json()
    confirm_card_setup(localstripe, body["client_secret"])
    provider_proxy.set_mode(mode)

    failed = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token)

    assert failed.status_code == 503
    assert session.get(Pledge, body["id"], populate_existing=True).status == "pending_setup"
    assert campaign_totals(session, project.id) == (0, 0)  # a pending pledge does not count yet
    provider_proxy.set_mode("forward")
    retried = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token)
    assert retried.status_code == 200 and retried.get_json()["status"] == "active"
    assert campaign_totals(session, project.id) == (2_500, 1)


def test_a_pending_pledge_can_be_cancelled_while_the_provider_is_down_and_frees_its_reward(
        client, session, world, provider_proxy):
    project, reward, _backer, token = world
    body = start(client, project, token, reward).get_json()
    provider_proxy.set_mode("down")

    cancelled = client.delete(f"/api/v1/pledges/{body['id']}", headers=token)

    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert written(session)[2] == 0


def test_the_pledge_form_says_the_provider_is_unreachable_and_saves_nothing(client, session, world, provider_proxy):
    project, _reward, backer, _token = world
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    AuthActions(client).login(backer.email, PASSWORD)
    provider_proxy.set_mode("hang")

    page = client.post(f"/projects/{project.slug}/pledge", data={
        "amount_eur": "25", "reward": "", "payment_method": "card", "message": "",
        "csrf_token": csrf_token(client, "/me/pledges")})

    assert page.status_code == 503
    assert "Our payment provider cannot be reached right now. Nothing has been saved" in page.get_data(as_text=True)
    assert written(session) == (0, 0, 0, 0)


# --- settlement ---------------------------------------------------------------------------------------------
class FailsFromCharge:
    """The gateway through the proxy; just before the `at`-th off-session charge the provider goes `mode`, and
    from the next charge on it is down (a slow provider that then drops off: one answer lost, the rest refused)."""

    def __init__(self, inner: StripeGateway, proxy, mode: str, at: int) -> None:
        self.inner, self.proxy, self.mode, self.at, self.calls = inner, proxy, mode, at, 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs):
        self.calls += 1
        if self.calls >= self.at:
            self.proxy.set_mode(self.mode if self.calls == self.at else "down")
        return self.inner.charge_off_session(**kwargs)


@pytest.mark.parametrize("mode", ["down", "slow"])
def test_settlement_cut_off_mid_run_charges_every_pledge_exactly_once_when_run_again(
        app, session, localstripe, stripe_gateway, provider_proxy, mode):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledges = [make_active_pledge(session, project, make_backer(session), 1_000 + 100 * i, stripe_gateway,
                                  localstripe_url=localstripe) for i in range(5)]
    pledged = campaign_totals(session, project.id)[0]
    proxied = StripeGateway("sk_test_x", api_base=provider_proxy.url, timeout_seconds=float(TIMEOUT))

    def run(gateway):
        return settle(app.extensions["db_sessionmaker"], gateway, now=datetime.now(UTC), fix_window_days=7,
                      notify=lambda notice: None)

    first = run(FailsFromCharge(proxied, provider_proxy, mode, at=3))
    assert first.charged == 2 and first.unknown >= 1, first
    session.expire_all()
    assert [session.get(Pledge, p.id).status for p in pledges][:2] == ["paid", "paid"]
    assert all(session.get(Pledge, p.id).status in ("active", "charging") for p in pledges[2:])

    provider_proxy.set_mode("forward")
    second = run(proxied)

    assert not second.errors, second
    session.expire_all()
    assert [session.get(Pledge, p.id).status for p in pledges] == ["paid"] * 5
    intents = [stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value=str(p.id))
               for p in pledges]
    assert [[pi.status for pi in found] for found in intents] == [["succeeded"]] * 5  # exactly once each
    booked = dict(session.execute(select(LedgerEntry.provider_ref, LedgerEntry.amount_cents).where(
        LedgerEntry.kind == "charge")).all())
    assert booked == {found[0].id: found[0].amount_cents for found in intents}  # ledger == provider
    assert sum(booked.values()) == pledged == campaign_totals(session, project.id)[0]
    assert run(proxied).charged == 0  # a third run finds nothing left to charge
