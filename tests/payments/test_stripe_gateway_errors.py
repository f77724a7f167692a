"""The Stripe adapter's error contract, with a stub API that answers the way real Stripe does."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from payments.gateway import (
    AuthenticationRequired,
    CardDeclined,
    InvalidRequest,
    PaymentError,
    ProviderUnavailable,
)
from payments.localstripe_admin import free_port
from payments.stripe_gateway import StripeGateway

PI = {
    "id": "pi_123",
    "object": "payment_intent",
    "status": "requires_payment_method",
    "amount": 2500,
    "currency": "eur",
    "metadata": {"pledge_id": "42"},
}


@dataclass
class StubApi:
    url: str = ""
    responses: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)

    def answer(self, status: int, body: dict[str, Any], delay: float = 0.0) -> None:
        self.responses.append((status, body, delay))


@pytest.fixture
def stub() -> Iterator[StubApi]:
    api = StubApi()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            api.requests.append((self.command, self.path, urllib.parse.parse_qs(raw), dict(self.headers)))
            status, body, delay = api.responses.pop(0) if api.responses else (500, {"error": {}}, 0.0)
            time.sleep(delay)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_port}"
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


def charge(gw: StripeGateway, **overrides: Any):
    params = {
        "customer_id": "cus_1",
        "payment_method_id": "pm_1",
        "amount_cents": 2500,
        "currency": "eur",
        "metadata": {"pledge_id": "42"},
        "idempotency_key": "pledge-42-charge",
    } | overrides
    return gw.charge_off_session(**params)


def card_error(code: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": "card_error", "code": code, "message": f"{code}!", **extra}}


def test_off_session_authentication_required_from_stripe_carries_the_payment_intent(stub):
    stub.answer(402, card_error("authentication_required", payment_intent=PI))
    with pytest.raises(AuthenticationRequired) as caught:
        charge(StripeGateway("sk_test_x", api_base=stub.url))
    assert caught.value.payment_intent_id == "pi_123"


def test_a_stripe_decline_carries_code_decline_code_and_payment_intent(stub):
    stub.answer(402, card_error("card_declined", decline_code="insufficient_funds", payment_intent=PI))
    with pytest.raises(CardDeclined) as caught:
        charge(StripeGateway("sk_test_x", api_base=stub.url))
    error = caught.value
    assert (error.code, error.decline_code, error.payment_intent_id) == (
        "card_declined",
        "insufficient_funds",
        "pi_123",
    )


def test_a_decline_without_payment_intent_is_looked_up_through_its_charge(stub):
    stub.answer(402, card_error("card_declined", charge="ch_9"))
    stub.answer(200, {"id": "ch_9", "object": "charge", "payment_intent": "pi_123"})
    with pytest.raises(CardDeclined) as caught:
        charge(StripeGateway("sk_test_x", api_base=stub.url))
    assert caught.value.payment_intent_id == "pi_123"
    assert stub.requests[-1][:2] == ("GET", "/v1/charges/ch_9")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (429, ProviderUnavailable),
        (409, ProviderUnavailable),
        (400, InvalidRequest),
        (404, InvalidRequest),
        (401, PaymentError),
    ],
)
def test_http_failures_map_onto_the_error_contract(stub, status, error):
    stub.answer(status, {"error": {"type": "api_error", "message": "boom"}})
    with pytest.raises(error) as caught:
        charge(StripeGateway("sk_test_x", api_base=stub.url))
    if error is PaymentError:
        assert not isinstance(caught.value, ProviderUnavailable | InvalidRequest | CardDeclined)


def test_a_refused_connection_is_provider_unavailable():
    with pytest.raises(ProviderUnavailable):
        charge(StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{free_port()}"))


def test_a_timeout_is_provider_unavailable_because_the_charge_may_have_happened(stub):
    stub.answer(200, PI | {"status": "succeeded"}, delay=0.3)
    with pytest.raises(ProviderUnavailable):
        charge(StripeGateway("sk_test_x", api_base=stub.url, timeout_seconds=0.1))


def test_a_gateway_for_localstripe_never_retries_a_post_by_itself(stub):
    stub.answer(503, {"error": {"type": "api_error"}})
    with pytest.raises(ProviderUnavailable):
        charge(StripeGateway("sk_test_x", api_base=stub.url))
    assert len(stub.requests) == 1


def test_every_creating_call_sends_our_idempotency_key(stub):
    stub.answer(200, PI | {"status": "succeeded"})
    charge(StripeGateway("sk_test_x", api_base=stub.url))
    headers = {k.lower(): v for k, v in stub.requests[0][3].items()}
    assert headers["idempotency-key"] == "pledge-42-charge"


def test_parameters_localstripe_rejects_are_sent_to_real_stripe_only(stub):
    for real in (False, True):
        stub.answer(200, PI | {"status": "succeeded"})
        gw = StripeGateway("sk_test_x", api_base=stub.url)
        gw.real_stripe = real  # as if api_base were api.stripe.com
        charge(gw, description="Pledge 42")
    local, real = stub.requests[0][2], stub.requests[1][2]
    assert "description" not in local and real["description"] == ["Pledge 42"]
    assert local["off_session"] == ["true"] and local["payment_method_types[0]"] == ["card"]


def test_a_gateway_without_api_base_talks_to_real_stripe():
    assert StripeGateway("sk_test_x").real_stripe
    assert not StripeGateway.from_config(
        {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_BASE": "http://127.0.0.1:8420"}
    ).real_stripe
    with pytest.raises(ValueError, match="secret key"):
        StripeGateway("")
