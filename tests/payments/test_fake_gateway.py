"""The fake gateway keeps the gateway contract, including what localstripe cannot show."""

from __future__ import annotations

import inspect
import json

import pytest

from payments.fake import FakeGateway
from payments.gateway import (
    AuthenticationRequired,
    CardDeclined,
    InvalidRequest,
    InvalidSignature,
    PaymentGateway,
    ProviderUnavailable,
)
from payments.stripe_gateway import StripeGateway

SECRET = "whsec_test"


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(clock=lambda: 1_750_000_000.0)


def charge(
    fake: FakeGateway,
    method: str = "pm_card_visa",
    pledge_id: str = "42",
    key: str | None = None,
    amount_cents: int = 2500,
):
    customer = fake.create_customer(email="b@example.org", name="B", idempotency_key=f"customer-{pledge_id}")
    return fake.charge_off_session(
        customer_id=customer.id,
        payment_method_id=method,
        amount_cents=amount_cents,
        currency="eur",
        metadata={"pledge_id": pledge_id},
        idempotency_key=key or f"charge-{pledge_id}",
    )


@pytest.mark.parametrize("implementation", [FakeGateway, StripeGateway])
def test_both_gateways_offer_every_protocol_method_with_the_same_keywords(implementation):
    for name, member in inspect.getmembers(PaymentGateway, inspect.isfunction):
        if name.startswith("_"):
            continue
        expected = list(inspect.signature(member).parameters)
        assert list(inspect.signature(getattr(implementation, name)).parameters) == expected, name


def test_the_fake_is_a_payment_gateway(fake):
    assert isinstance(fake, PaymentGateway)


def test_a_confirmed_setup_intent_reports_the_saved_method(fake):
    customer = fake.create_customer(email="b@example.org", name="B", idempotency_key="c")
    si = fake.create_setup_intent(
        customer_id=customer.id, payment_method_types=["card"], metadata={"pledge_id": "7"}, idempotency_key="s"
    )
    assert (si.id, si.status, si.client_secret) == (
        "seti_fake_0001",
        "requires_payment_method",
        "seti_fake_0001_secret_fake",
    )
    fake.confirm_setup_intent(si.id, "pm_sepa_debit")
    done = fake.retrieve_setup_intent(si.id)
    assert done.succeeded and done.payment_method_type == "sepa_debit" and done.metadata == {"pledge_id": "7"}


def test_a_card_declined_at_setup_leaves_the_setup_intent_unconfirmed(fake):
    customer = fake.create_customer(email="b@example.org", name="B", idempotency_key="c")
    si = fake.create_setup_intent(
        customer_id=customer.id, payment_method_types=["card"], metadata={}, idempotency_key="s"
    )
    fake.confirm_setup_intent(si.id, "pm_card_visa", succeed=False)
    again = fake.retrieve_setup_intent(si.id)
    assert not again.succeeded and again.last_error == "Your card was declined."


def test_a_good_card_is_charged_with_the_pledge_metadata(fake):
    pi = charge(fake)
    assert (pi.status, pi.amount_cents, pi.currency, pi.metadata) == ("succeeded", 2500, "eur", {"pledge_id": "42"})
    assert pi.charge_id and fake.payment_intents_created["42"] == 1
    assert [e["type"] for e in fake.events] == ["payment_intent.succeeded"]


def test_a_declined_card_raises_card_declined_with_its_payment_intent(fake):
    with pytest.raises(CardDeclined) as caught:
        charge(fake, "pm_card_chargeDeclined")
    assert caught.value.code == "card_declined"
    assert fake.retrieve_payment_intent(caught.value.payment_intent_id).status == "requires_payment_method"


def test_an_off_session_3ds_card_raises_authentication_required_and_is_fixed_on_session(fake):
    with pytest.raises(AuthenticationRequired) as caught:
        charge(fake, "pm_card_authenticationRequired")
    pi_id = caught.value.payment_intent_id
    assert fake.retrieve_payment_intent(pi_id).last_error_code == "authentication_required"
    assert fake.complete_authentication(pi_id).status == "succeeded"
    assert fake.payment_intents_created["42"] == 1


def test_an_on_session_payment_of_a_3ds_card_waits_for_the_browser(fake):
    customer = fake.create_customer(email="b@example.org", name="B", idempotency_key="c")
    pi = fake.create_payment_intent_on_session(
        customer_id=customer.id,
        payment_method_id="pm_card_authenticationRequired",
        amount_cents=900,
        currency="eur",
        metadata={"pledge_id": "5"},
        idempotency_key="fix-5-1",
    )
    assert pi.status == "requires_action" and pi.client_secret
    assert fake.complete_authentication(pi.id, success=False).status == "requires_payment_method"


def test_a_sepa_debit_is_processing_until_the_bank_answers(fake):
    pi = charge(fake, "pm_sepa_debit")
    assert pi.status == "processing"
    assert fake.finish_processing(pi.id).status == "succeeded"
    failing = charge(fake, "pm_sepa_debit_fails", pledge_id="43")
    assert fake.finish_processing(failing.id).last_error_code == "insufficient_funds"
    assert [e["type"] for e in fake.events][-1] == "payment_intent.payment_failed"


def test_a_repeated_idempotency_key_replays_the_first_outcome(fake):
    first = charge(fake)
    assert charge(fake) == first
    assert fake.payment_intents_created["42"] == 1
    with pytest.raises(CardDeclined) as one:
        charge(fake, "pm_card_chargeDeclined", pledge_id="43")
    with pytest.raises(CardDeclined) as two:
        charge(fake, "pm_card_chargeDeclined", pledge_id="43")
    assert one.value is two.value and fake.payment_intents_created["43"] == 1


def test_an_idempotency_key_reused_with_other_parameters_is_refused(fake):
    charge(fake)
    with pytest.raises(InvalidRequest, match="other parameters"):
        charge(fake, amount_cents=9999)


def test_without_idempotency_like_localstripe_a_repeat_charges_twice():
    fake = FakeGateway(honour_idempotency_keys=False)
    charge(fake)
    charge(fake)
    assert fake.payment_intents_created["42"] == 2


def test_a_failure_before_the_effect_leaves_nothing_at_the_provider(fake):
    fake.fail_next(method="charge_off_session")
    with pytest.raises(ProviderUnavailable):
        charge(fake)
    assert fake.find_payment_intents(metadata_key="pledge_id", metadata_value="42") == []


def test_a_lost_response_leaves_the_charge_at_the_provider_and_a_replay_returns_it(fake):
    fake.fail_next(method="charge_off_session", when="after")
    with pytest.raises(ProviderUnavailable):
        charge(fake)
    [found] = fake.find_payment_intents(metadata_key="pledge_id", metadata_value="42")
    assert found.status == "succeeded"
    assert charge(fake) == found  # same idempotency key: replayed, not charged again
    assert fake.payment_intents_created["42"] == 1


def test_fail_next_counts_calls_of_any_method_when_no_method_is_named(fake):
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            fake.create_customer(email="b@example.org", name="B", idempotency_key="c")
    assert fake.create_customer(email="b@example.org", name="B", idempotency_key="c").id == "cus_fake_0001"


def test_find_payment_intents_filters_by_metadata_and_customer(fake):
    charge(fake, pledge_id="1")
    mine = charge(fake, pledge_id="2")
    assert fake.find_payment_intents(metadata_key="pledge_id", metadata_value="2") == [mine]
    assert fake.find_payment_intents(metadata_key="pledge_id", metadata_value="2", customer_id="cus_other") == []


def test_refunds_in_part_then_the_rest_but_never_more(fake):
    pi = charge(fake, amount_cents=5000)
    part = fake.refund(payment_intent_id=pi.id, amount_cents=2000, idempotency_key="r1")
    rest = fake.refund(payment_intent_id=pi.id, amount_cents=None, idempotency_key="r2")
    assert (part.amount_cents, rest.amount_cents, rest.status) == (2000, 3000, "succeeded")
    assert fake.retrieve_refund(part.id) == part
    with pytest.raises(InvalidRequest):
        fake.refund(payment_intent_id=pi.id, amount_cents=1, idempotency_key="r3")


def test_a_declined_payment_cannot_be_refunded(fake):
    with pytest.raises(CardDeclined) as caught:
        charge(fake, "pm_card_chargeDeclined")
    with pytest.raises(InvalidRequest):
        fake.refund(payment_intent_id=caught.value.payment_intent_id, amount_cents=None, idempotency_key="r")


def test_unknown_ids_are_invalid_requests(fake):
    with pytest.raises(InvalidRequest):
        fake.retrieve_payment_intent("pi_missing")
    with pytest.raises(InvalidRequest):
        charge(fake, "pm_unknown")


def test_a_signed_event_parses_and_a_tampered_or_foreign_one_does_not(fake):
    pi = charge(fake)
    body, header = fake.signed_event(fake.events[0], SECRET)
    event = fake.parse_webhook(body, header, SECRET)
    assert (event.type, event.object_id, event.object_type) == ("payment_intent.succeeded", pi.id, "payment_intent")
    assert event.payload["data"]["object"]["metadata"] == {"pledge_id": "42"}
    tampered = body.replace(b"succeeded", b"canceled")
    for args in ((tampered, header, SECRET), (body, header, "whsec_other"), (body, "", SECRET)):
        with pytest.raises(InvalidSignature):
            fake.parse_webhook(*args)


def test_a_webhook_signed_long_ago_is_refused_as_a_replay(fake):
    body = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}).encode()
    header = fake.sign_webhook(body, SECRET, timestamp=1_750_000_000 - 301)
    with pytest.raises(InvalidSignature, match="too old"):
        fake.parse_webhook(body, header, SECRET)
