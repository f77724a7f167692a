"""Conversion between our cents and Stripe's smallest currency unit."""

import pytest

from payments.gateway import InvalidRequest
from payments.units import from_provider_units, normalize_currency, to_provider_units


@pytest.mark.parametrize(
    ("cents", "currency", "units"),
    [
        (2500, "eur", 2500),
        (2500, "EUR", 2500),
        (0, "eur", 0),
        (50000, "jpy", 500),
        (120000, "krw", 1200),
        (1250, "kwd", 12500),
        (999, "usd", 999),
    ],
)
def test_cents_convert_to_stripe_units_by_the_currencys_decimals(cents, currency, units):
    assert to_provider_units(cents, currency) == units
    assert from_provider_units(units, currency) == cents


def test_a_zero_decimal_currency_refuses_fractional_amounts():
    with pytest.raises(InvalidRequest, match="JPY"):
        to_provider_units(50050, "jpy")


def test_a_three_decimal_amount_that_cents_cannot_express_is_refused():
    with pytest.raises(InvalidRequest):
        from_provider_units(12345, "kwd")


@pytest.mark.parametrize("amount", [-1, 12.5, True, "100"])
def test_only_non_negative_integer_cents_are_accepted(amount):
    with pytest.raises(InvalidRequest):
        to_provider_units(amount, "eur")


@pytest.mark.parametrize("currency", ["", "euro", "€", "e1r"])
def test_a_currency_must_be_a_three_letter_code(currency):
    with pytest.raises(InvalidRequest):
        normalize_currency(currency)
