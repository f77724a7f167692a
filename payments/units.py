"""Conversion between our integer cents and Stripe's "smallest currency unit", used by the adapters only.

Our amounts are always hundredths of the currency's main unit ("cents"), whatever the currency. Stripe counts
in the currency's own minor unit: cents for EUR (identity), whole yen for JPY (zero-decimal), thousandths for
three-decimal currencies such as KWD. See https://docs.stripe.com/currencies.
"""

from __future__ import annotations

import re

from payments.gateway import InvalidRequest

ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_CURRENCY = re.compile(r"^[a-z]{3}$")


def normalize_currency(currency: str) -> str:
    """Return the lower-case ISO 4217 code; reject anything that is not three letters."""
    code = currency.strip().lower()
    if not _CURRENCY.match(code):
        raise InvalidRequest(f"not a currency code: {currency!r}")
    return code


def to_provider_units(amount_cents: int, currency: str) -> int:
    """Convert our cents to Stripe's smallest unit; refuse amounts the currency cannot express exactly."""
    code = normalize_currency(currency)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents < 0:
        raise InvalidRequest(f"amount must be a non-negative integer of cents, not {amount_cents!r}")
    if code in ZERO_DECIMAL:
        if amount_cents % 100:
            raise InvalidRequest(f"{code.upper()} has no minor unit: {amount_cents} cents is not a whole amount")
        return amount_cents // 100
    if code in THREE_DECIMAL:
        return amount_cents * 10
    return amount_cents


def from_provider_units(amount: int, currency: str) -> int:
    """Convert Stripe's smallest unit back to our cents; refuse what cents cannot express exactly."""
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL:
        return amount * 100
    if code in THREE_DECIMAL:
        if amount % 10:
            raise InvalidRequest(f"{amount} {code.upper()} thousandths is not a whole number of cents")
        return amount // 10
    return amount
