"""Amounts in words for receipts: German (the legal text) and English, from integer cents.

German rules: numbers below a million are one word ("zweitausenddreihunderteins"); "ein" inside compounds
("einundzwanzig", "einhundert", "eintausend") and before a noun ("ein Euro", "einhundertein Euro");
"eins" only when the number stands alone; "eine Million", "zwei Millionen", and so on for Milliarde,
Billion, Billiarde (long scale). English uses the short scale without "and" inside the number, so the
only "and" joins euros and cents.
"""

from __future__ import annotations

DE_UNITS = ("", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
DE_TEENS = ("zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn")
DE_TENS = ("", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig")
# (value, singular, plural): feminine nouns written as separate words after "eine"/"zwei" ...
DE_SCALES = (
    (10**15, "Billiarde", "Billiarden"),
    (10**12, "Billion", "Billionen"),
    (10**9, "Milliarde", "Milliarden"),
    (10**6, "Million", "Millionen"),
)

EN_UNITS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
EN_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
EN_SCALES = ((10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

MAX_NUMBER = 10**18 - 1
CURRENCY_NAMES = {
    "de": {"EUR": (("Euro", "Euro"), ("Cent", "Cent"))},
    "en": {"EUR": (("euro", "euros"), ("cent", "cents"))},
}


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"an int is required, not {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number out of range 0..{MAX_NUMBER}: {n}")


def _de_below_hundred(n: int) -> str:
    if n < 10:
        return DE_UNITS[n]
    if n < 20:
        return DE_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return f"{DE_UNITS[unit]}und{DE_TENS[tens]}" if unit else DE_TENS[tens]


def _de_below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = f"{DE_UNITS[hundreds]}hundert" if hundreds else ""
    return head + _de_below_hundred(rest)


def _de_below_million(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    head = f"{_de_below_thousand(thousands)}tausend" if thousands else ""
    return head + _de_below_thousand(rest)


def german_number(n: int, *, before_noun: bool = False) -> str:
    """Write a whole number in German words: 1 is "eins" alone and "ein" before a noun (``before_noun``)."""
    _check_number(n)
    if n == 0:
        return "null"
    parts: list[str] = []
    for value, singular, plural in DE_SCALES:
        count, n = divmod(n, value)
        if count == 1:
            parts.append(f"eine {singular}")
        elif count % 100 == 1:
            # "Tausendundeine Nacht": a count ending in a bare "ein" takes "eine" and the singular.
            parts.append(f"{_de_below_million(count)}e {singular}")
        elif count:
            parts.append(f"{_de_below_million(count)} {plural}")
    if n:
        word = _de_below_million(n)
        # A final bare "ein" (1, 101, 1001, but not 21) is "eins" when the number stands alone.
        parts.append(word if before_noun or not word.endswith("ein") else word + "s")
    return " ".join(parts)


def _en_below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{EN_UNITS[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(f"{EN_TENS[tens]}-{EN_UNITS[unit]}" if unit else EN_TENS[tens])
    elif rest >= 10:
        words.append(EN_TEENS[rest - 10])
    elif rest:
        words.append(EN_UNITS[rest])
    return " ".join(words)


def english_number(n: int) -> str:
    """Write a whole number in English words (short scale, no "and" inside the number)."""
    _check_number(n)
    if n == 0:
        return "zero"
    parts: list[str] = []
    for value, name in EN_SCALES:
        count, n = divmod(n, value)
        if count:
            parts.append(f"{_en_below_thousand(count)} {name}")
    if n:
        parts.append(_en_below_thousand(n))
    return " ".join(parts)


def _currency_names(language: str, currency: str) -> tuple[tuple[str, str], tuple[str, str]]:
    try:
        return CURRENCY_NAMES[language][currency]
    except KeyError:
        raise ValueError(f"no words for {currency!r} in {language!r}") from None


def amount_in_words(cents: int, currency: str = "EUR", language: str = "de") -> str:
    """Write an amount of integer cents in words; cents are named only when there are any.

    "einhundertdreiundzwanzig Euro und fünfundvierzig Cent", "null Euro", "fünf Cent";
    "one hundred twenty-three euros and forty-five cents".
    """
    _check_number(cents)
    (major_one, major_many), (minor_one, minor_many) = _currency_names(language, currency)
    units, subunits = divmod(cents, 100)

    def phrase(n: int, one: str, many: str) -> str:
        word = german_number(n, before_noun=True) if language == "de" else english_number(n)
        return f"{word} {one if n == 1 else many}"

    if units and subunits:
        joiner = " und " if language == "de" else " and "
        return phrase(units, major_one, major_many) + joiner + phrase(subunits, minor_one, minor_many)
    if subunits:
        return phrase(subunits, minor_one, minor_many)
    return phrase(units, major_one, major_many)
