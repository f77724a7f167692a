import pytest

from crowdfund.domain.money import AmountError, AmountErrorCode, parse_euros


@pytest.mark.parametrize(("text", "cents"), [
    ("2500", 250_000), ("2500,5", 250_050), ("2500.50", 250_050), ("2.500,50", 250_050),
    ("2,500.50", 250_050), ("1.234.567", 123_456_700), ("1,234,567", 123_456_700), ("25 €", 2_500),
    ("0,99", 99), (" 7 ", 700), ("1\u00a0000,00", 100_000), ("", None), ("  ", None),
])
def test_amounts_are_read_exactly_into_cents(text, cents):
    assert parse_euros(text) == cents


@pytest.mark.parametrize(("text", "code"), [
    ("2.500", AmountErrorCode.AMBIGUOUS), ("2,500", AmountErrorCode.AMBIGUOUS),
    ("2500,505", AmountErrorCode.AMBIGUOUS), ("2500,5055", AmountErrorCode.TOO_MANY_DECIMALS),
    ("-5", AmountErrorCode.NEGATIVE), ("abc", AmountErrorCode.NOT_A_NUMBER), ("1e5", AmountErrorCode.NOT_A_NUMBER),
    ("12.34.5", AmountErrorCode.NOT_A_NUMBER), ("1,2,3", AmountErrorCode.NOT_A_NUMBER),
    ("2.500.50", AmountErrorCode.NOT_A_NUMBER), (",50", AmountErrorCode.NOT_A_NUMBER),
    ("5,", AmountErrorCode.NOT_A_NUMBER), ("NaN", AmountErrorCode.NOT_A_NUMBER),
    ("１２３", AmountErrorCode.NOT_A_NUMBER), ("99999999999999", AmountErrorCode.TOO_LARGE),
])
def test_ambiguous_or_malformed_amounts_are_refused_with_a_reason(text, code):
    with pytest.raises(AmountError) as info:
        parse_euros(text)
    assert info.value.code == code
