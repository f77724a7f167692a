"""German and English amounts in words, from integer cents."""

import pytest

from receipts.words import amount_in_words, english_number, german_number

GERMAN = [
    (0, "null"),
    (1, "eins"),
    (2, "zwei"),
    (7, "sieben"),
    (10, "zehn"),
    (11, "elf"),
    (12, "zwölf"),
    (13, "dreizehn"),
    (14, "vierzehn"),
    (15, "fünfzehn"),
    (16, "sechzehn"),
    (17, "siebzehn"),
    (18, "achtzehn"),
    (19, "neunzehn"),
    (20, "zwanzig"),
    (21, "einundzwanzig"),
    (30, "dreißig"),
    (31, "einunddreißig"),
    (45, "fünfundvierzig"),
    (60, "sechzig"),
    (66, "sechsundsechzig"),
    (70, "siebzig"),
    (77, "siebenundsiebzig"),
    (99, "neunundneunzig"),
    (100, "einhundert"),
    (101, "einhunderteins"),
    (110, "einhundertzehn"),
    (111, "einhundertelf"),
    (121, "einhunderteinundzwanzig"),
    (200, "zweihundert"),
    (999, "neunhundertneunundneunzig"),
    (1000, "eintausend"),
    (1001, "eintausendeins"),
    (1010, "eintausendzehn"),
    (1100, "eintausendeinhundert"),
    (2001, "zweitausendeins"),
    (21_000, "einundzwanzigtausend"),
    (100_000, "einhunderttausend"),
    (101_000, "einhunderteintausend"),
    (123_456, "einhundertdreiundzwanzigtausendvierhundertsechsundfünfzig"),
    (999_999, "neunhundertneunundneunzigtausendneunhundertneunundneunzig"),
    (1_000_000, "eine Million"),
    (1_000_001, "eine Million eins"),
    (1_001_000, "eine Million eintausend"),
    (2_000_000, "zwei Millionen"),
    (2_000_001, "zwei Millionen eins"),
    (21_000_000, "einundzwanzig Millionen"),
    (101_000_000, "einhunderteine Million"),
    (123_456_789, "einhundertdreiundzwanzig Millionen vierhundertsechsundfünfzigtausendsiebenhundertneunundachtzig"),
    (1_000_000_000, "eine Milliarde"),
    (2_500_000_000, "zwei Milliarden fünfhundert Millionen"),
    (10**12, "eine Billion"),
    (3 * 10**12 + 1, "drei Billionen eins"),
    (10**15, "eine Billiarde"),
    (
        10**18 - 1,
        "neunhundertneunundneunzig Billiarden neunhundertneunundneunzig Billionen neunhundertneunundneunzig"
        " Milliarden neunhundertneunundneunzig Millionen"
        " neunhundertneunundneunzigtausendneunhundertneunundneunzig",
    ),
]


@pytest.mark.parametrize(("number", "words"), GERMAN)
def test_german_numbers_follow_the_spelling_rules(number, words):
    assert german_number(number) == words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (1, "ein"),
        (21, "einundzwanzig"),
        (101, "einhundertein"),
        (1001, "eintausendein"),
        (2_000_001, "zwei Millionen ein"),
        (1_000_000, "eine Million"),
    ],
)
def test_german_one_before_a_noun_is_ein_not_eins(number, words):
    assert german_number(number, before_noun=True) == words


ENGLISH = [
    (0, "zero"),
    (1, "one"),
    (11, "eleven"),
    (12, "twelve"),
    (13, "thirteen"),
    (15, "fifteen"),
    (19, "nineteen"),
    (21, "twenty-one"),
    (40, "forty"),
    (100, "one hundred"),
    (101, "one hundred one"),
    (115, "one hundred fifteen"),
    (1000, "one thousand"),
    (1001, "one thousand one"),
    (1_000_000, "one million"),
    (2_000_001, "two million one"),
    (
        1_234_567_890,
        "one billion two hundred thirty-four million five hundred sixty-seven thousand eight hundred ninety",
    ),
]


@pytest.mark.parametrize(("number", "words"), ENGLISH)
def test_english_numbers_use_the_short_scale_with_hyphenated_tens(number, words):
    assert english_number(number) == words


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (0, "null Euro"),
        (1, "ein Cent"),
        (45, "fünfundvierzig Cent"),
        (100, "ein Euro"),
        (101, "ein Euro und ein Cent"),
        (1_100, "elf Euro"),
        (12_345, "einhundertdreiundzwanzig Euro und fünfundvierzig Cent"),
        (10_100, "einhundertein Euro"),
        (100_000, "eintausend Euro"),
        (100_100, "eintausendein Euro"),
        (123_456, "eintausendzweihundertvierunddreißig Euro und sechsundfünfzig Cent"),
        (100_000_000, "eine Million Euro"),
        (200_000_199, "zwei Millionen ein Euro und neunundneunzig Cent"),
    ],
)
def test_german_amounts_name_euro_and_cent(cents, words):
    assert amount_in_words(cents) == words


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (0, "zero euros"),
        (1, "one cent"),
        (100, "one euro"),
        (101, "one euro and one cent"),
        (12_345, "one hundred twenty-three euros and forty-five cents"),
        (100_000_000, "one million euros"),
    ],
)
def test_english_amounts_name_euros_and_cents(cents, words):
    assert amount_in_words(cents, language="en") == words


@pytest.mark.parametrize("value", [1.5, 100.0, "100", True, None])
def test_amounts_in_words_take_integer_cents_only(value):
    with pytest.raises(TypeError):
        amount_in_words(value)


@pytest.mark.parametrize("value", [-1, 10**18])
def test_numbers_outside_the_supported_range_are_refused(value):
    with pytest.raises(ValueError):
        german_number(value)


def test_an_unknown_currency_has_no_words():
    with pytest.raises(ValueError):
        amount_in_words(100, currency="USD")
