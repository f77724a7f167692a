"""A backer pledges in Chromium on the real pages, saving a card with localstripe's fake Stripe.js."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from crowdfund import create_app
from crowdfund.models.pledges import Pledge
from tests.conftest import make_test_config, wipe
from tests.factories import PASSWORD, make_pledge_world

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page) -> None:
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    """The app served by `live_server`, talking to localstripe (its Stripe.js included)."""
    application = create_app(make_test_config(database_url, tmp_path / "instance", STRIPE_SECRET_KEY="sk_test_x",
                                              STRIPE_PUBLISHABLE_KEY="pk_test_x", STRIPE_API_BASE=localstripe))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def world(session):
    _world, project, reward, backer = make_pledge_world(session, quantity_total=3)
    return project, reward, backer


def log_in_in_english(page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Sprache").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status").first).to_contain_text("logged in")


@pytest.mark.parametrize(("card", "three_d_secure"), [("4242424242424242", False), ("4000002760003184", True)],
                         ids=["card", "3d-secure"])
def test_a_backer_pledges_25_euros_with_a_card_and_sees_the_pledge_active(page, live_server, requests_seen, session,
                                                                         world, localstripe, card, three_d_secure):
    project, _reward, backer = world
    log_in_in_english(page, live_server, backer.email)
    page.goto(f"{live_server}/projects/{project.slug}")
    page.get_by_role("link", name="Back this project").click()
    page.get_by_label("Amount (EUR)").fill("25")
    page.get_by_label("Credit or debit card").check()
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", name="Payment method for your pledge")).to_be_visible()
    assert_accessible(page)  # with localstripe's card inputs mounted
    for placeholder, value in (("number", card), ("exp_month", "12"), ("exp_year", "34"), ("cvc", "123")):
        page.locator(f'#card-element input[placeholder="{placeholder}"]').fill(value)
    page.get_by_role("button", name="Save payment method and pledge").click()
    if three_d_secure:
        page.get_by_role("button", name="Complete authentication").click()

    expect(page).to_have_url(f"{live_server}/me/pledges")
    expect(page.get_by_role("status").first).to_contain_text("Your pledge is active")
    row = page.get_by_role("row", name=project.title)
    expect(row).to_contain_text("€25.00")
    expect(row).to_contain_text("Active")
    session.expire_all()
    pledge = session.scalars(select(Pledge)).one()
    assert (pledge.status, pledge.amount_cents, pledge.payment_method_type) == ("active", 2_500, "card")

    page.goto(f"{live_server}/projects/{project.slug}")
    expect(page.locator(".funding__figures")).to_contain_text("€25.00")
    hosts = {urlsplit(url).hostname for url in requests_seen if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requests_seen
    assert any(url.startswith(f"{localstripe}/js.stripe.com/v3/") for url in requests_seen)


def test_a_failed_3d_secure_check_leaves_the_pledge_waiting_for_a_payment_method(page, live_server, requests_seen,
                                                                                session, world):
    project, _reward, backer = world
    log_in_in_english(page, live_server, backer.email)
    page.goto(f"{live_server}/projects/{project.slug}/pledge")
    page.get_by_label("Amount (EUR)").fill("25")
    page.get_by_role("button", name="Continue to payment").click()
    for placeholder, value in (("number", "4000002760003184"), ("exp_month", "12"), ("exp_year", "34"),
                               ("cvc", "123")):
        page.locator(f'#card-element input[placeholder="{placeholder}"]').fill(value)
    page.get_by_role("button", name="Save payment method and pledge").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("status").first).to_contain_text("could not be saved")
    expect(page.get_by_role("heading", name="Payment method for your pledge")).to_be_visible()
    session.expire_all()
    assert session.scalars(select(Pledge.status)).one() == "pending_setup"


def test_a_backer_pledges_by_sepa_debit_after_reading_the_mandate(page, live_server, requests_seen, session, world):
    project, reward, backer = world
    log_in_in_english(page, live_server, backer.email)
    page.goto(f"{live_server}/projects/{project.slug}")
    page.get_by_role("link", name="Choose “Tote bag”").click()
    expect(page.get_by_label("Amount (EUR)")).to_have_value("20")
    page.get_by_label("SEPA direct debit").check()
    expect(page.get_by_text("authorise Crowdfunding Kassel and Stripe")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Continue to payment").click()
    assert_accessible(page)
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    expect(page.get_by_text("authorise Crowdfunding Kassel and Stripe")).to_be_visible()
    page.get_by_role("button", name="Save payment method and pledge").click()

    expect(page).to_have_url(f"{live_server}/me/pledges")
    row = page.get_by_role("row", name=project.title)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Tote bag")
    assert_accessible(page)
    session.expire_all()
    pledge = session.scalars(select(Pledge)).one()
    assert (pledge.status, pledge.payment_method_type, pledge.reward_id) == ("active", "sepa_debit", reward.id)
    assert {urlsplit(url).hostname for url in requests_seen if url.startswith("http")} == {"127.0.0.1"}
