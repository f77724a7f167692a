"""Drive a running localstripe over HTTP (standard library only): start, wait, flush, register webhooks,
and do in tests what its fake Stripe.js does in the browser.

The browser helpers send exactly the requests of localstripe's `/js.stripe.com/v3/`: `confirmCardSetup` posts
`payment_method_data` with the publishable key to `/v1/setup_intents/<id>/confirm` (3-D Secure: a second
confirm when "Complete authentication" is clicked, a cancel for "Fail authentication"), and
`confirmCardPayment` posts to `/v1/payment_intents/<id>/_authenticate?success=true|false`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

PUBLISHABLE_KEY = "pk_test_localstripe"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class LocalstripeError(Exception):
    """localstripe answered with an HTTP error; `body` is its JSON error."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(f"localstripe answered {status}: {body}")
        self.status, self.body = status, body


def _request(
    url: str, *, method: str = "GET", data: bytes | None = None, content_type: str | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) URLs we build
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        raise LocalstripeError(error.code, json.loads(body) if body.startswith(b"{") else {}) from error
    return json.loads(raw) if raw.startswith(b"{") else {}


def _post_json(url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return _request(url, method="POST", data=json.dumps(body).encode(), content_type="application/json")


def wait_ready(url: str, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until localstripe serves its Stripe.js; fail early if `process` has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()  # noqa: S310
            return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"localstripe exited with code {process.returncode}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"localstripe at {url} not ready after {timeout} s") from None
            time.sleep(0.05)


def flush(url: str) -> None:
    """Delete every object in localstripe (registered webhooks stay)."""
    _request(f"{url}/_config/data", method="DELETE")


def register_webhook(
    url: str, webhook_id: str, target_url: str, secret: str, events: Sequence[str] | None = None
) -> None:
    """Make localstripe POST signed events to `target_url` (memory only: register again after each start)."""
    fields = [("url", target_url), ("secret", secret)] + [("events[]", e) for e in events or ()]
    _request(
        f"{url}/_config/webhooks/{urllib.parse.quote(webhook_id)}",
        method="POST",
        data=urllib.parse.urlencode(fields).encode(),
        content_type="application/x-www-form-urlencoded",
    )


def disable_webhook(url: str, webhook_id: str) -> None:
    """Stop deliveries to a webhook (localstripe cannot delete one: it gets an empty event list)."""
    _post_json(
        f"{url}/_config/webhooks/{urllib.parse.quote(webhook_id)}",
        {"url": "http://127.0.0.1:9/disabled", "secret": "disabled", "events": []},
    )


def _setup_intent_id(client_secret: str) -> str:
    return client_secret.split("_secret_")[0]


def confirm_card_setup(
    url: str,
    client_secret: str,
    card_number: str = "4242424242424242",
    *,
    authenticate: bool = True,
    exp_month: str = "12",
    exp_year: str = "34",
    cvc: str = "123",
) -> dict[str, Any]:
    """Do what `stripe.confirmCardSetup` does, including the 3-D Secure dialog; return the SetupIntent."""
    base = f"{url}/v1/setup_intents/{_setup_intent_id(client_secret)}"
    card = {"number": card_number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}
    auth = {"key": PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret}
    si = _post_json(f"{base}/confirm", {**auth, "payment_method_data": {"type": "card", "card": card}})
    if si["status"] == "requires_action":
        si = _post_json(f"{base}/confirm" if authenticate else f"{base}/cancel", auth)
    return si


def confirm_sepa_debit_setup(
    url: str,
    client_secret: str,
    iban: str = "DE89370400440532013000",
    *,
    name: str = "Erika Mustermann",
    email: str = "erika@example.org",
) -> dict[str, Any]:
    """Do what `stripe.confirmSepaDebitSetup` does; return the SetupIntent."""
    base = f"{url}/v1/setup_intents/{_setup_intent_id(client_secret)}"
    method = {"type": "sepa_debit", "sepa_debit": {"iban": iban}, "billing_details": {"name": name, "email": email}}
    return _post_json(
        f"{base}/confirm",
        {"key": PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret, "payment_method_data": method},
    )


def confirm_card_payment(url: str, client_secret: str, *, success: bool = True) -> dict[str, Any]:
    """Do what localstripe's `stripe.confirmCardPayment` does (3-D Secure on a `requires_action` PaymentIntent)."""
    pi_id = client_secret.split("_secret_")[0]
    query = "true" if success else "false"
    return _post_json(
        f"{url}/v1/payment_intents/{pi_id}/_authenticate?success={query}",
        {"key": PUBLISHABLE_KEY, "client_secret": client_secret},
    )


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_localstripe(port: int | None = None, *, state_file: Path | None = None, timeout: float = 15.0) -> Iterator[str]:
    """Start `python -m payments.localstripe_server` on loopback, yield its URL, stop it afterwards."""
    port = port or free_port()
    command = [sys.executable, "-m", "payments.localstripe_server", "--port", str(port)]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
