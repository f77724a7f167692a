"""Stripe's webhook signature scheme in the standard library, for the fake gateway and tests.

Header `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret>`; there may
be several `v1` entries (during a secret roll) and other schemes, which are ignored. The real adapter uses the
Stripe SDK's own check; tests prove that both accept each other's headers.
"""

from __future__ import annotations

import hashlib
import hmac

from payments.gateway import InvalidSignature

DEFAULT_TOLERANCE_SECONDS = 300


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Return the `Stripe-Signature` header value for `payload` at `timestamp`."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in items if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        raise InvalidSignature("no timestamp in the signature header")
    return int(stamps[0]), [value.strip() for key, value in items if key.strip() == "v1"]


def verify(
    payload: bytes, header: str | None, secret: str, *, now: float, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> None:
    """Accept a header only if one `v1` signature matches the raw body and the timestamp is recent."""
    if not header or not secret:
        raise InvalidSignature("missing signature header or secret")
    timestamp, signatures = _parse_header(header)
    expected = _digest(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("no signature matches the body")
    if tolerance and timestamp < now - tolerance:
        raise InvalidSignature("the signature's timestamp is too old (replayed webhook?)")
