"""A backer completes a payment that settlement could not take, in Chromium with localstripe's Stripe.js:
3-D Secure on the same PaymentIntent, or a new card after a decline. The pledge ends paid and booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from crowdfund import create_app
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services.settlement import settle
from tests.conftest import make_test_config, wipe
from tests.factories import PASSWORD, make_active_pledge, make_campaign_world, make_due_campaign, make_user

DECLINED_WHEN_CHARGED, THREE_D_SECURE, VISA = "4000000000000341", "4000002760003184", "4242424242424242"


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    """The app served by `live_server`, talking to localstripe (its Stripe.js included)."""
    application = create_app(make_test_config(database_url, tmp_path / "instance", STRIPE_SECRET_KEY="sk_test_x",
                                              STRIPE_PUBLISHABLE_KEY="pk_test_x", STRIPE_API_BASE=localstripe))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def needs_backer(app, session, localstripe):
    """A funded campaign settled with the backer's saved `card`; the pledge now waits for the backer."""

    def make(card: str) -> Pledge:
        gateway = app.extensions["payment_gateway"]
        project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
        backer = make_user(session, name="Bea Backer")
        pledge = make_active_pledge(session, project, backer, 2_500, gateway, localstripe_url=localstripe, card=card)
        settle(app.extensions["db_sessionmaker"], gateway, now=datetime.now(UTC), fix_window_days=7,
               notify=lambda n: None)
        session.expire_all()
        pledge = session.get(Pledge, pledge.id)
        assert pledge.status == "action_required"
        return pledge

    return make


def log_in_in_english(page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Sprache").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").first).to_contain_text("logged in")


def enter_card(page, number: str) -> None:
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123")):
        page.locator(f'#fix-payment-card input[placeholder="{placeholder}"]').fill(value)


def assert_paid_once(session, pledge: Pledge) -> None:
    session.expire_all()
    row = session.get(Pledge, pledge.id)
    lines = session.scalars(select(LedgerEntry).where(LedgerEntry.pledge_id == pledge.id)).all()
    assert row.status == "paid" and [(e.kind, e.amount_cents, e.provider_ref) for e in lines] == [
        ("charge", 2_500, row.payment_intent_id)]


def test_a_backer_completes_3d_secure_for_the_payment_settlement_could_not_take(
        page, live_server, requests_seen, session, needs_backer, localstripe):
    pledge = needs_backer(THREE_D_SECURE)
    log_in_in_english(page, live_server, pledge.backer.email)

    page.goto(f"{live_server}/pledges/{pledge.id}/payment")
    expect(page.locator("#fix-payment")).to_have_attribute("data-mode", "authenticate")
    page.get_by_role("button", name="Confirm the payment").click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(page.locator("#pay-state")).to_have_attribute("data-state", "paid")
    expect(page.get_by_role("status").first).to_contain_text("your payment is complete")
    assert_paid_once(session, pledge)
    assert pledge.payment_intent_id == session.get(Pledge, pledge.id).payment_intent_id  # the same one
    hosts = {urlsplit(url).hostname for url in requests_seen if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requests_seen


@pytest.mark.parametrize("new_card", [VISA, THREE_D_SECURE], ids=["card", "3d-secure-card"])
def test_after_a_decline_a_backer_pays_with_another_card(page, live_server, session, needs_backer, new_card):
    pledge = needs_backer(DECLINED_WHEN_CHARGED)
    log_in_in_english(page, live_server, pledge.backer.email)

    page.goto(f"{live_server}/pledges/{pledge.id}/payment")
    expect(page.locator("#fix-payment")).to_have_attribute("data-mode", "new_card")
    enter_card(page, new_card)
    page.get_by_role("button", name="Pay €25.00").click()
    if new_card == THREE_D_SECURE:
        page.get_by_role("button", name="Complete authentication").click()  # saving the card
        page.get_by_role("button", name="Complete authentication").click()  # paying with it

    expect(page.locator("#pay-state")).to_have_attribute("data-state", "paid")
    assert_paid_once(session, pledge)
