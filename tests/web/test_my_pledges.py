"""/me/pledges: each pledge's status in words (German first, English), and a pledge whose payment needs the
backer's action links to the fix-the-payment page with a clear call to action."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.factories import PASSWORD, make_campaign, make_campaign_world, make_pledge, make_user

EN = {"Accept-Language": "en"}
DE = {"Accept-Language": "de"}


@pytest.fixture
def world(session):
    return make_campaign_world(session)


@pytest.fixture
def backer(session, auth):
    user = make_user(session, name="Bea Backer")
    auth.login(user.email, PASSWORD)
    return user


def project(session, world, title: str):
    return make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                         title=title)


def row(html: str, pledge_id: int) -> str:
    match = re.search(rf'<tr id="pledge-{pledge_id}".*?</tr>', html, re.S)
    assert match, pledge_id
    return match.group(0)


def test_a_pledge_needing_action_links_to_the_payment_page_with_a_call_to_action(client, session, world, backer):
    waiting = make_pledge(session, project(session, world, "Repair café"), backer, 2_500, status="action_required")
    waiting.action_required_at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    session.commit()
    active = make_pledge(session, project(session, world, "Park bench"), backer, 1_000)

    html = client.get("/me/pledges", headers=EN).get_data(as_text=True)

    link = f'href="/pledges/{waiting.id}/payment"'
    assert html.count(link) == 2  # in the notice at the top and in the pledge's row
    assert "One payment needs your action" in html and "please complete it by March 9, 2026" in html
    assert link in row(html, waiting.id) and "Complete the payment" in row(html, waiting.id)
    assert "Action required" in row(html, waiting.id)
    assert "your payment did not go through. Please complete it." in row(html, waiting.id)
    assert "/payment" not in row(html, active.id)


def test_without_a_payment_to_fix_there_is_no_call_to_action(client, session, world, backer):
    make_pledge(session, project(session, world, "Park bench"), backer, 1_000, status="paid")
    html = client.get("/me/pledges", headers=EN).get_data(as_text=True)
    assert "needs your action" not in html and "/payment" not in html


@pytest.mark.parametrize(("status", "label_de", "english"), [
    ("pending_setup", "Zahlungsart fehlt", "Add a payment method to activate your pledge."),
    ("active", "Aktiv", "Charged only if the campaign reaches its threshold by the deadline."),
    ("cancelled", "Storniert", "You cancelled this pledge. Nothing was charged."),
    ("released", "Entfallen (nicht finanziert)", "The campaign did not reach its threshold. Nothing was charged."),
    ("charging", "Wird abgebucht", "The campaign is funded; your payment is being collected."),
    ("action_required", "Handlung erforderlich", "your payment did not go through. Please complete it."),
    ("paid", "Bezahlt", "Paid. Thank you for your support!"),
    ("failed", "Zahlung fehlgeschlagen", "The payment could not be collected in time."),
    ("refunded", "Erstattet", "€10.00 has been refunded to you."),
])
def test_every_status_is_shown_in_words(client, session, world, backer, status, label_de, english):
    """German by default (the label), English on request (label and sentence); never the bare status code."""
    pledge = make_pledge(session, project(session, world, "Werkstatt"), backer, 1_000, status=status)
    if status == "refunded":
        pledge.paid_cents = pledge.refunded_cents = 1_000
        session.commit()
    shown_en = row(client.get("/me/pledges", headers=EN).get_data(as_text=True), pledge.id)
    assert english in shown_en
    shown_de = row(client.get("/me/pledges", headers=DE).get_data(as_text=True), pledge.id)
    assert label_de in shown_de and f'data-status="{status}"' in shown_de
    assert f">{status}<" not in shown_de and f">{status}<" not in shown_en
