"""The Stripe adapter against localstripe: setup, off-session charges, 3-D Secure, declines, refunds, webhooks."""

from __future__ import annotations

import http.server
import queue
import threading
import time
from collections.abc import Iterator

import pytest

from payments import localstripe_admin
from payments import stripe_gateway as stripe_gateway_module
from payments.gateway import (
    AuthenticationRequired,
    CardDeclined,
    InvalidRequest,
    InvalidSignature,
    PaymentIntentInfo,
    SetupIntentInfo,
)
from payments.localstripe_admin import confirm_card_payment, confirm_card_setup, confirm_sepa_debit_setup
from payments.stripe_gateway import StripeGateway

VISA = "4242424242424242"
DECLINED_WHEN_CHARGED = "4000000000000341"
THREE_D_SECURE = "4000002760003184"
SEPA_FAILING_LATER = "DE62370400440532013001"


def saved_method(
    gw: StripeGateway, url: str, card: str = VISA, pledge_id: str = "42", iban: str | None = None
) -> SetupIntentInfo:
    """Create a customer and a SetupIntent, confirm it as Stripe.js would, return the re-fetched SetupIntent."""
    customer = gw.create_customer(email="backer@example.org", name="Backer", idempotency_key=f"cus-{pledge_id}")
    types = ["sepa_debit"] if iban else ["card"]
    si = gw.create_setup_intent(
        customer_id=customer.id,
        payment_method_types=types,
        metadata={"pledge_id": pledge_id},
        idempotency_key=f"seti-{pledge_id}",
    )
    if iban:
        confirm_sepa_debit_setup(url, si.client_secret, iban)
    else:
        confirm_card_setup(url, si.client_secret, card)
    return gw.retrieve_setup_intent(si.id)


def charge(gw: StripeGateway, si: SetupIntentInfo, amount_cents: int = 2500, key: str = "") -> PaymentIntentInfo:
    return gw.charge_off_session(
        customer_id=si.customer_id,
        payment_method_id=si.payment_method_id,
        amount_cents=amount_cents,
        currency="eur",
        metadata=si.metadata,
        idempotency_key=key or f"charge-{si.metadata['pledge_id']}",
        payment_method_type=si.payment_method_type,
        description="Pledge for a project",
    )


def test_a_setup_intent_confirmed_like_the_browser_does_reports_its_card(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe)
    assert si.succeeded and si.payment_method_id.startswith("pm_")
    assert (si.payment_method_type, si.metadata, si.last_error) == ("card", {"pledge_id": "42"}, None)
    assert si.customer_id.startswith("cus_")


def test_a_3ds_card_is_saved_only_once_authenticated(stripe_gateway, localstripe):
    assert saved_method(stripe_gateway, localstripe, THREE_D_SECURE).succeeded
    customer = stripe_gateway.create_customer(email="b@example.org", name="B", idempotency_key="c")
    si = stripe_gateway.create_setup_intent(
        customer_id=customer.id, payment_method_types=["card"], metadata={}, idempotency_key="s"
    )
    confirm_card_setup(localstripe, si.client_secret, THREE_D_SECURE, authenticate=False)
    assert stripe_gateway.retrieve_setup_intent(si.id).status == "canceled"


def test_a_saved_card_is_charged_off_session_with_the_pledge_metadata(stripe_gateway, localstripe):
    pi = charge(stripe_gateway, saved_method(stripe_gateway, localstripe))
    assert (pi.status, pi.amount_cents, pi.currency, pi.metadata) == ("succeeded", 2500, "eur", {"pledge_id": "42"})
    assert pi.charge_id.startswith("ch_")  # localstripe sends latest_charge as an object
    assert stripe_gateway.retrieve_payment_intent(pi.id) == pi


def test_a_card_declined_when_charged_raises_card_declined_with_the_payment_intent(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe, DECLINED_WHEN_CHARGED)
    assert si.succeeded  # it attaches fine; only the charge fails
    with pytest.raises(CardDeclined) as caught:
        charge(stripe_gateway, si)
    assert caught.value.code == "card_declined"
    pi = stripe_gateway.retrieve_payment_intent(caught.value.payment_intent_id)  # found through the charge
    assert (pi.status, pi.last_error_code, pi.metadata) == (
        "requires_payment_method",
        "card_declined",
        {"pledge_id": "42"},
    )


def test_an_off_session_3ds_charge_raises_authentication_required_and_completes_on_session(stripe_gateway, localstripe):
    with pytest.raises(AuthenticationRequired) as caught:
        charge(stripe_gateway, saved_method(stripe_gateway, localstripe, THREE_D_SECURE))
    pi = stripe_gateway.retrieve_payment_intent(caught.value.payment_intent_id)
    assert pi.status == "requires_action"  # real Stripe: requires_payment_method with authentication_required
    confirm_card_payment(localstripe, pi.client_secret)  # the fix-the-payment page
    assert stripe_gateway.retrieve_payment_intent(pi.id).status == "succeeded"


def test_a_declined_pledge_is_paid_on_session_with_a_new_card(stripe_gateway, localstripe):
    with pytest.raises(CardDeclined):
        charge(stripe_gateway, saved_method(stripe_gateway, localstripe, DECLINED_WHEN_CHARGED))
    new = saved_method(stripe_gateway, localstripe, THREE_D_SECURE)
    pi = stripe_gateway.create_payment_intent_on_session(
        customer_id=new.customer_id,
        payment_method_id=new.payment_method_id,
        amount_cents=2500,
        currency="eur",
        metadata={"pledge_id": "42"},
        idempotency_key="pledge-42-fix-1",
    )
    assert pi.status == "requires_action" and pi.client_secret
    confirm_card_payment(localstripe, pi.client_secret)
    found = stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value="42")
    assert sorted(p.status for p in found) == ["requires_payment_method", "succeeded"]


def test_an_on_session_payment_with_a_declining_card_raises_card_declined(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe, DECLINED_WHEN_CHARGED)
    with pytest.raises(CardDeclined) as caught:
        stripe_gateway.create_payment_intent_on_session(
            customer_id=si.customer_id,
            payment_method_id=si.payment_method_id,
            amount_cents=800,
            currency="eur",
            metadata=si.metadata,
            idempotency_key="fix",
        )
    assert caught.value.payment_intent_id.startswith("pi_")


def test_a_sepa_debit_that_fails_later_goes_from_processing_to_requires_payment_method(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe, iban=SEPA_FAILING_LATER)
    assert si.payment_method_type == "sepa_debit"
    pi = charge(stripe_gateway, si)
    assert pi.status == "processing"
    deadline = time.monotonic() + 5
    while (now := stripe_gateway.retrieve_payment_intent(pi.id)).status == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert now.status == "requires_payment_method"


def test_find_payment_intents_pages_through_the_list_and_filters_by_pledge_and_customer(
    stripe_gateway, localstripe, monkeypatch
):
    monkeypatch.setattr(stripe_gateway_module, "PAGE_SIZE", 2)
    mine = saved_method(stripe_gateway, localstripe, pledge_id="7")
    other = saved_method(stripe_gateway, localstripe, pledge_id="8")
    ids = {charge(stripe_gateway, mine, key="a").id, charge(stripe_gateway, mine, key="b").id}
    for key in "cde":
        charge(stripe_gateway, other, key=key)
    found = stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value="7")
    assert {p.id for p in found} == ids
    assert (
        stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value="7", customer_id=other.customer_id)
        == []
    )


def test_localstripe_ignores_idempotency_keys_so_only_our_records_prevent_a_second_charge(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe)
    first, second = charge(stripe_gateway, si, key="same"), charge(stripe_gateway, si, key="same")
    assert first.id != second.id


def test_a_payment_is_refunded_in_part_and_another_in_full(stripe_gateway, localstripe):
    si = saved_method(stripe_gateway, localstripe)
    part_pi, full_pi = charge(stripe_gateway, si, 5000, key="a"), charge(stripe_gateway, si, 3000, key="b")
    part = stripe_gateway.refund(
        payment_intent_id=part_pi.id, amount_cents=2000, idempotency_key="r1", reason="requested_by_customer"
    )
    full = stripe_gateway.refund(payment_intent_id=full_pi.id, amount_cents=None, idempotency_key="r2")
    assert (part.amount_cents, part.status, part.payment_intent_id) == (2000, "succeeded", part_pi.id)
    assert (full.amount_cents, full.currency) == (3000, "eur")
    assert stripe_gateway.retrieve_refund(part.id) == part


def test_unknown_objects_are_invalid_requests(stripe_gateway):
    with pytest.raises(InvalidRequest):
        stripe_gateway.retrieve_payment_intent("pi_missing")
    with pytest.raises(InvalidRequest):
        stripe_gateway.create_setup_intent(
            customer_id="cus_x", payment_method_types=["ideal"], metadata={}, idempotency_key="k"
        )


class _Collector(http.server.BaseHTTPRequestHandler):
    received: queue.Queue[tuple[bytes, str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook_receiver(localstripe) -> Iterator[tuple[queue.Queue[tuple[bytes, str]], str]]:
    """A tiny HTTP server that localstripe posts its events to."""
    handler = type("Collector", (_Collector,), {"received": queue.Queue()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    localstripe_admin.register_webhook(
        localstripe,
        "test",
        f"http://127.0.0.1:{server.server_port}/hook",
        "whsec_local",
        events=["payment_intent.succeeded"],
    )
    yield handler.received, "whsec_local"
    localstripe_admin.disable_webhook(localstripe, "test")
    server.shutdown()
    server.server_close()
    thread.join()


def next_event_about(object_id, received, gw, secret, timeout=5.0):
    """Wait for the event about `object_id`; events of earlier tests may still arrive (sent 1 s late)."""
    deadline = time.monotonic() + timeout
    while True:
        body, header = received.get(timeout=max(deadline - time.monotonic(), 0.01))
        event = gw.parse_webhook(body, header, secret)
        if event.object_id == object_id:
            return event, body, header


def test_a_webhook_from_localstripe_verifies_and_a_tampered_or_foreign_one_does_not(
    stripe_gateway, localstripe, webhook_receiver
):
    received, secret = webhook_receiver
    pi = charge(stripe_gateway, saved_method(stripe_gateway, localstripe))
    event, body, header = next_event_about(pi.id, received, stripe_gateway, secret)
    assert (event.type, event.object_id, event.object_type) == ("payment_intent.succeeded", pi.id, "payment_intent")
    assert event.id.startswith("evt_") and event.payload["data"]["object"]["metadata"] == {"pledge_id": "42"}
    with pytest.raises(InvalidSignature):
        stripe_gateway.parse_webhook(body.replace(b"succeeded", b"canceled"), header, secret)
    with pytest.raises(InvalidSignature):
        stripe_gateway.parse_webhook(body, header, "whsec_other")
