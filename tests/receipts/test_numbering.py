"""The document number format <PREFIX>-<YEAR>-<6 digits>."""

import pytest

from receipts.numbering import DocumentNumber, format_number, is_valid_number, parse_number


def test_a_number_is_formatted_with_a_four_digit_year_and_six_digit_sequence():
    assert format_number("KS", 2026, 42) == "KS-2026-000042"


def test_formatting_and_parsing_round_trip():
    assert parse_number(format_number("KS", 2026, 999_999)) == DocumentNumber("KS", 2026, 999_999)


@pytest.mark.parametrize("text", ["KS-2026-000042", "A-1999-000001", "KSV2-2030-123456", "ABCDEFGHIJ-2026-000001"])
def test_well_formed_numbers_are_valid(text):
    assert is_valid_number(text)
    assert str(parse_number(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "KS-2026-42",
        "KS-26-000042",
        "ks-2026-000042",
        "KS-2026-0000042",
        "KS_2026_000042",
        " KS-2026-000042",
        "KS-2026-000042\n",
        "KS-2026-000000",
        "2K-2026-000001",
        "ABCDEFGHIJK-2026-000001",
        "KS-2026-00004२",
    ],
)
def test_malformed_numbers_are_refused(text):
    assert not is_valid_number(text)
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("prefix", "year", "sequence"),
    [
        ("KS", 2026, 0),
        ("KS", 2026, 1_000_000),
        ("KS", 999, 1),
        ("ks", 2026, 1),
        ("", 2026, 1),
        ("K-S", 2026, 1),
    ],
)
def test_formatting_refuses_values_the_format_cannot_hold(prefix, year, sequence):
    with pytest.raises(ValueError):
        format_number(prefix, year, sequence)


def test_numbers_of_one_issuer_and_year_sort_by_sequence():
    numbers = [parse_number(f"KS-2026-{n:06d}") for n in (3, 1, 2)]
    assert [n.sequence for n in sorted(numbers)] == [1, 2, 3]
