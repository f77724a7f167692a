"""Turn Stripe API objects (as plain dicts) into the gateway's dataclasses.

Both real Stripe and localstripe are read here, so every field tolerates both shapes: an expandable field may
be an id or an object (localstripe returns `latest_charge` as an object), optional fields may be missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from payments.gateway import PaymentIntentInfo, RefundInfo, SetupIntentInfo, WebhookEvent
from payments.units import from_provider_units


def object_id(value: Any) -> str | None:
    """Return the id of an expandable field, whether Stripe sent the id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}


def setup_intent_info(si: Mapping[str, Any]) -> SetupIntentInfo:
    """Map a SetupIntent; its `payment_method` should be expanded so that the type is known."""
    pm = si.get("payment_method")
    error = si.get("last_setup_error") or {}
    return SetupIntentInfo(
        id=si["id"],
        status=si["status"],
        client_secret=si.get("client_secret") or "",
        customer_id=object_id(si.get("customer")),
        payment_method_id=object_id(pm),
        payment_method_type=pm.get("type") if isinstance(pm, Mapping) else None,
        metadata=_metadata(si),
        last_error=error.get("message"),
    )


def payment_intent_info(pi: Mapping[str, Any]) -> PaymentIntentInfo:
    """Map a PaymentIntent, converting its amount back to cents."""
    error = pi.get("last_payment_error") or {}
    return PaymentIntentInfo(
        id=pi["id"],
        status=pi["status"],
        amount_cents=from_provider_units(pi["amount"], pi["currency"]),
        currency=pi["currency"].lower(),
        customer_id=object_id(pi.get("customer")),
        payment_method_id=object_id(pi.get("payment_method")),
        metadata=_metadata(pi),
        client_secret=pi.get("client_secret"),
        last_error_code=error.get("code"),
        last_error_message=error.get("message"),
        charge_id=object_id(pi.get("latest_charge")),
    )


def refund_info(refund: Mapping[str, Any]) -> RefundInfo:
    """Map a Refund, converting its amount back to cents."""
    return RefundInfo(
        id=refund["id"],
        status=refund["status"],
        currency=refund["currency"].lower(),
        amount_cents=from_provider_units(refund["amount"], refund["currency"]),
        payment_intent_id=object_id(refund.get("payment_intent")),
    )


def webhook_event(raw_body: bytes | str) -> WebhookEvent:
    """Parse a verified webhook body into a `WebhookEvent` (the whole event stays in `payload`)."""
    payload = json.loads(raw_body)
    obj = (payload.get("data") or {}).get("object") or {}
    return WebhookEvent(
        id=payload["id"], type=payload["type"], object_id=obj.get("id"), object_type=obj.get("object"), payload=payload
    )
