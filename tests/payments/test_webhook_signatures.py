"""Our standard-library signature scheme and the Stripe SDK's accept each other's headers."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from payments import signing
from payments.fake import FakeGateway
from payments.gateway import InvalidSignature
from payments.stripe_gateway import StripeGateway

SECRET = "whsec_test"
BODY = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
    }
).encode()


@pytest.fixture
def gateway() -> StripeGateway:
    return StripeGateway("sk_test_offline", api_base="http://127.0.0.1:9")


def test_the_stripe_adapter_accepts_a_header_signed_by_our_scheme(gateway):
    event = gateway.parse_webhook(BODY, signing.sign(BODY, SECRET, int(time.time())), SECRET)
    assert (event.id, event.type, event.object_id, event.object_type) == (
        "evt_1",
        "payment_intent.succeeded",
        "pi_1",
        "payment_intent",
    )


def test_our_scheme_accepts_a_header_signed_by_the_stripe_sdk():
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET)
    assert FakeGateway().parse_webhook(BODY, header, SECRET).object_id == "pi_1"


def test_one_matching_signature_among_several_is_enough():
    now = int(time.time())
    good = signing.sign(BODY, SECRET, now).split(",")[1]
    header = f"t={now},v1={'0' * 64},{good},v0=ignored"
    signing.verify(BODY, header, SECRET, now=now)


@pytest.mark.parametrize("verify", ["adapter", "fake"])
@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (BODY.replace(b"succeeded", b"canceled"), "valid", SECRET),
        (BODY, "valid", "whsec_other"),
        (BODY, "", SECRET),
        (BODY, "t=abc,v1=00", SECRET),
        (BODY, "old", SECRET),
        (BODY, "valid", ""),
    ],
)
def test_a_tampered_unsigned_foreign_or_stale_webhook_is_refused(gateway, verify, body, header, secret):
    now = int(time.time())
    headers = {"valid": signing.sign(BODY, SECRET, now), "old": signing.sign(BODY, SECRET, now - 301)}
    header = headers.get(header, header)
    parse = gateway.parse_webhook if verify == "adapter" else FakeGateway().parse_webhook
    with pytest.raises(InvalidSignature):
        parse(body, header, secret)
