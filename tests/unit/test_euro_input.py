"""Euro amounts typed into forms become exact integer cents: no float, at most two decimal places."""

from __future__ import annotations

import pytest

from crowdfund.forms.projects import euros_to_cents


@pytest.mark.parametrize(("typed", "cents"), [
    ("2500", 250_000), ("2500,5", 250_050), ("2500.50", 250_050), (" 12 € ", 1_200), ("0,01", 1),
    ("0.29", 29), ("1,10", 110), ("", None), ("   ", None), ("1.000,00", 100_000), ("1.000.000", 100_000_000),
])
def test_typed_euros_become_exact_cents(typed, cents):
    assert euros_to_cents(typed) == cents


@pytest.mark.parametrize("typed", ["12,345", "2.500", "0.001", "-5", "1e5", "zwölf", "12,", "NaN",
                                   "Infinity", "9" * 13])
def test_amounts_that_are_not_plain_euros_with_two_decimals_are_refused(typed):
    with pytest.raises(ValueError):
        euros_to_cents(typed)
