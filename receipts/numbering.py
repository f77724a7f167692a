"""The document number format `<PREFIX>-<YEAR>-<6 digits>`, e.g. `KS-2026-000042`.

Only the format lives here. The gap-free assignment (a counter row per issuer and year, locked in the
issuing transaction) belongs to the application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX_PATTERN = r"[A-Z][A-Z0-9]{0,9}"
NUMBER_RE = re.compile(rf"({PREFIX_PATTERN})-([0-9]{{4}})-([0-9]{{6}})")
MAX_SEQUENCE = 999_999


@dataclass(frozen=True, order=True)
class DocumentNumber:
    """One document number: issuer prefix, calendar year and the 1-based sequence within that year."""

    prefix: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        if not re.fullmatch(PREFIX_PATTERN, self.prefix):
            raise ValueError(f"prefix must be 1-10 capital letters or digits, starting with a letter: {self.prefix!r}")
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"year must have four digits: {self.year}")
        if not 1 <= self.sequence <= MAX_SEQUENCE:
            raise ValueError(f"sequence must be 1..{MAX_SEQUENCE}: {self.sequence}")

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year:04d}-{self.sequence:06d}"


def format_number(prefix: str, year: int, sequence: int) -> str:
    """Format a document number; a sequence beyond 999999 is refused rather than widened."""
    return str(DocumentNumber(prefix, year, sequence))


def parse_number(text: str) -> DocumentNumber:
    """Parse a document number exactly (no surrounding blanks, capital prefix); raise ValueError otherwise."""
    match = NUMBER_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a document number: {text!r}")
    prefix, year, sequence = match.groups()
    return DocumentNumber(prefix, int(year), int(sequence))


def is_valid_number(text: str) -> bool:
    """Tell whether `text` is a well-formed document number."""
    try:
        parse_number(text)
    except ValueError:
        return False
    return True
