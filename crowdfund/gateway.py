"""The payment provider port: built once per app from the settings, or replaced by tests."""

from __future__ import annotations

from flask import Flask, current_app

from payments.gateway import PaymentGateway


class PaymentsUnavailable(RuntimeError):
    """No payment provider is configured (STRIPE_SECRET_KEY is empty)."""


def init_app(app: Flask) -> None:
    gateway: PaymentGateway | None = None
    if app.config.get("STRIPE_SECRET_KEY"):
        from payments.stripe_gateway import StripeGateway

        gateway = StripeGateway.from_config(app.config)
    app.extensions["payment_gateway"] = gateway
    if not app.config.get("STRIPE_JS_URL") and app.config.get("STRIPE_API_BASE"):
        # localstripe serves its fake Stripe.js under the API base
        app.config["STRIPE_JS_URL"] = app.config["STRIPE_API_BASE"].rstrip("/") + "/js.stripe.com/v3/"
    elif not app.config.get("STRIPE_JS_URL") and gateway is not None:
        app.config["STRIPE_JS_URL"] = "https://js.stripe.com/v3/"


def payment_gateway() -> PaymentGateway:
    """Return the configured gateway; raise PaymentsUnavailable when there is none."""
    gateway = current_app.extensions.get("payment_gateway")
    if gateway is None:
        raise PaymentsUnavailable("No payment provider is configured.")
    return gateway
