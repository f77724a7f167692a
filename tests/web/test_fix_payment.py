"""The backer's fix-the-payment page: the same PaymentIntent after 3-D Secure, a new card after a decline; the
server re-fetches the PaymentIntent after each step and never takes the browser's word."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import PASSWORD, make_active_pledge, make_campaign_world, make_due_campaign, make_user


@pytest.fixture
def fake(app) -> FakeGateway:
    gateway = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = gateway
    app.config.update(STRIPE_PUBLISHABLE_KEY="pk_test_fake", STRIPE_JS_URL="/static/js/app.js")
    return gateway


@pytest.fixture
def backer(session):
    user = make_user(session, name="Bea Backer")
    user.locale = "en"  # the pages' words below are English
    session.commit()
    return user


@pytest.fixture
def needs_backer(app, session, fake, backer, auth):
    """Settle a funded campaign whose only pledge (the logged-in backer's) is charged with `method`."""

    def make(method: str) -> Pledge:
        project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
        pledge = make_active_pledge(session, project, backer, 2_500, fake, method=method)
        settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7,
               notify=lambda n: None)
        auth.login(backer.email, PASSWORD)
        return fresh(session, pledge.id)

    return make


def fresh(session, pledge_id: int) -> Pledge:
    session.expire_all()
    return session.get(Pledge, pledge_id)


def page(client, pledge: Pledge):
    response = client.get(f"/pledges/{pledge.id}/payment")
    html = response.get_data(as_text=True)
    data = dict(re.findall(r'data-([\w-]+)="([^"]*)"', html))
    return response, html, data


def complete(client, pledge: Pledge, csrf: str):
    return client.post(f"/pledges/{pledge.id}/payment/complete", data={"csrf_token": csrf}, follow_redirects=True)


def pay_with_card(client, pledge: Pledge, data: dict, setup_intent_id: str):
    return client.post(f"/pledges/{pledge.id}/payment/card", json={"setup_intent_id": setup_intent_id},
                       headers={"X-CSRFToken": data["csrf-token"]})


def charges(session, pledge_id: int) -> list[tuple[int, str]]:
    session.expire_all()
    return [(e.amount_cents, e.provider_ref) for e in session.scalars(
        select(LedgerEntry).where(LedgerEntry.pledge_id == pledge_id, LedgerEntry.kind == "charge"))]


def test_only_the_backer_can_open_the_page(app, session, fake, needs_backer, client, auth):
    pledge = needs_backer("pm_card_chargeDeclined")
    auth.logout()
    assert client.get(f"/pledges/{pledge.id}/payment").status_code == 302  # to the login page
    other = make_user(session, name="Otto Other")
    auth.login(other.email, PASSWORD)
    assert client.get(f"/pledges/{pledge.id}/payment").status_code == 404
    assert client.get("/pledges/999999/payment").status_code == 404


def test_after_3d_secure_the_page_confirms_the_same_payment_intent(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_authenticationRequired")

    response, html, data = page(client, pledge)

    assert response.status_code == 200 and data["mode"] == "authenticate"
    assert data["client-secret"] == fake.payment_intents[pledge.payment_intent_id].client_secret
    assert data["payment-method"] == "pm_card_authenticationRequired"
    assert "create_setup_intent" not in fake.calls and "<script>" not in html
    assert "js/fix-payment.js" in html


def test_returning_without_authenticating_changes_nothing(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_authenticationRequired")
    _response, _html, data = page(client, pledge)

    html = complete(client, pledge, data["csrf-token"]).get_data(as_text=True)

    assert fresh(session, pledge.id).status == "action_required" and charges(session, pledge.id) == []
    assert "The payment is not complete yet." in html


def test_once_3d_secure_is_done_the_return_marks_the_pledge_paid(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_authenticationRequired")
    _response, _html, data = page(client, pledge)
    fake.complete_authentication(pledge.payment_intent_id)  # what stripe.confirmCardPayment does

    html = complete(client, pledge, data["csrf-token"]).get_data(as_text=True)

    assert fresh(session, pledge.id).status == "paid"
    assert charges(session, pledge.id) == [(2_500, pledge.payment_intent_id)]
    assert fake.payment_intents_created[str(pledge.id)] == 1
    assert "Thank you: your payment is complete." in html and 'data-state="paid"' in html


def test_after_a_decline_the_backer_pays_with_a_new_card(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_chargeDeclined")
    _response, html, data = page(client, pledge)
    assert data["mode"] == "new_card" and "Your card was declined." in html
    setup_id = data["setup-secret"].split("_secret_")[0]
    assert fake.setup_intents[setup_id].metadata == {"pledge_id": str(pledge.id), "purpose": "fix"}
    fake.confirm_setup_intent(setup_id, "pm_card_visa")  # what stripe.confirmCardSetup does

    answer = pay_with_card(client, pledge, data, setup_id)

    assert answer.status_code == 200 and answer.json["status"] == "succeeded"
    paid = fresh(session, pledge.id)
    assert (paid.status, paid.payment_method_id) == ("paid", "pm_card_visa")
    attempts = session.scalars(select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledge.id)
                               .order_by(PaymentAttempt.attempt_no)).all()
    assert [(a.kind, a.status) for a in attempts] == [("off_session", "needs_backer"), ("on_session", "succeeded")]
    assert charges(session, pledge.id) == [(2_500, attempts[1].payment_intent_id)]
    assert fake.payment_intents[attempts[1].payment_intent_id].metadata == {"pledge_id": str(pledge.id),
                                                                            "attempt": "2"}


def test_a_new_card_that_needs_3d_secure_is_confirmed_in_the_browser(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_chargeDeclined")
    _response, _html, data = page(client, pledge)
    setup_id = data["setup-secret"].split("_secret_")[0]
    fake.confirm_setup_intent(setup_id, "pm_card_authenticationRequired")

    answer = pay_with_card(client, pledge, data, setup_id).json

    assert answer["status"] == "requires_action" and answer["client_secret"].endswith("_secret_fake")
    assert fresh(session, pledge.id).status == "action_required"
    fake.complete_authentication(answer["client_secret"].split("_secret_")[0])
    complete(client, pledge, data["csrf-token"])
    assert fresh(session, pledge.id).status == "paid" and len(charges(session, pledge.id)) == 1


def test_a_new_card_declined_again_leaves_the_page_asking_for_another(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_chargeDeclined")
    _response, _html, data = page(client, pledge)
    setup_id = data["setup-secret"].split("_secret_")[0]
    fake.confirm_setup_intent(setup_id, "pm_card_chargeDeclined")

    assert pay_with_card(client, pledge, data, setup_id).json["status"] == "declined"

    assert fresh(session, pledge.id).status == "action_required"
    assert page(client, pledge)[2]["mode"] == "new_card"


@pytest.mark.parametrize("problem", ["unconfirmed", "other_pledge"])
def test_a_setup_intent_that_is_not_this_pledges_saved_card_is_refused(session, fake, needs_backer, client,
                                                                       problem):
    pledge = needs_backer("pm_card_chargeDeclined")
    _response, _html, data = page(client, pledge)
    setup_id = data["setup-secret"].split("_secret_")[0]
    if problem == "other_pledge":
        other = fake.create_setup_intent(customer_id=pledge.customer_id, payment_method_types=["card"],
                                         metadata={"pledge_id": "424242"}, idempotency_key="other")
        fake.confirm_setup_intent(other.id, "pm_card_visa")
        setup_id = other.id

    answer = pay_with_card(client, pledge, data, setup_id)

    assert (answer.status_code, answer.json) == (409, {"status": "refused", "reason": "setup"})
    assert fake.calls.count("create_payment_intent_on_session") == 0


def test_the_card_step_needs_the_csrf_token(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_chargeDeclined")
    answer = client.post(f"/pledges/{pledge.id}/payment/card", json={"setup_intent_id": "seti_x"})
    assert answer.status_code == 400


def test_a_paid_pledge_has_nothing_left_to_do(session, fake, needs_backer, client):
    pledge = needs_backer("pm_card_visa")
    response, html, _data = page(client, pledge)
    assert response.status_code == 200 and 'data-state="paid"' in html and "fix-payment.js" not in html
