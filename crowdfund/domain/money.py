"""Euro amounts typed by people, read exactly into integer cents (never through float).

"2.500" means 2500 € to a German reader and 2.5 € to many others: a single separator followed by
exactly three digits is ambiguous and refused, so nobody pledges a thousandth of what they meant."""

from __future__ import annotations

import re
from enum import StrEnum


class AmountError(ValueError):
    """Why a typed amount cannot be read; `code` is stable for messages and tests."""

    def __init__(self, code: AmountErrorCode) -> None:
        super().__init__(code.value)
        self.code = code


class AmountErrorCode(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    AMBIGUOUS = "ambiguous"
    TOO_MANY_DECIMALS = "too_many_decimals"
    NEGATIVE = "negative"
    TOO_LARGE = "too_large"


def _grouped(integer_part: str, sep: str) -> bool:
    return re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(sep)}[0-9]{{3}})+", integer_part) is not None


def _split(text: str) -> tuple[str, str]:
    """Return (integer digits, decimal digits) or raise AmountError."""
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:
        decimal_sep = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal_sep == "." else "."
        integer, _, decimals = text.rpartition(decimal_sep)
        if not _grouped(integer, thousands):
            raise AmountError(AmountErrorCode.NOT_A_NUMBER)
        return integer.replace(thousands, ""), decimals
    sep = "." if has_dot else "," if has_comma else ""
    if not sep:
        return text, ""
    if text.count(sep) > 1:
        if not _grouped(text, sep):
            raise AmountError(AmountErrorCode.NOT_A_NUMBER)
        return text.replace(sep, ""), ""
    integer, _, decimals = text.partition(sep)
    if len(decimals) == 3:
        raise AmountError(AmountErrorCode.AMBIGUOUS)
    return integer, decimals


def parse_euros(text: str, *, max_cents: int = 10**11) -> int | None:
    """Return the typed euro amount in cents, or None for an empty field.

    Accepts 2500, 2500,5, 2500.50, 2.500,50 and 2,500.50; refuses 2.500 and 2,500 (ambiguous),
    more than two decimals, signs and anything that is not a number."""
    cleaned = text.replace("€", "").replace("EUR", "").replace("\u00a0", "").replace(" ", "").strip()
    if not cleaned:
        return None
    if cleaned.startswith("-"):
        raise AmountError(AmountErrorCode.NEGATIVE)
    if not re.fullmatch(r"[0-9]([0-9.,]*[0-9])?", cleaned):
        raise AmountError(AmountErrorCode.NOT_A_NUMBER)
    integer, decimals = _split(cleaned)
    if not re.fullmatch(r"[0-9]+", integer) or not re.fullmatch(r"[0-9]*", decimals):
        raise AmountError(AmountErrorCode.NOT_A_NUMBER)
    if len(decimals) > 2:
        raise AmountError(AmountErrorCode.TOO_MANY_DECIMALS)
    cents = int(integer) * 100 + int(decimals.ljust(2, "0") or 0)
    if cents > max_cents:
        raise AmountError(AmountErrorCode.TOO_LARGE)
    return cents
