"""DATEV "EXTF" Buchungsstapel (format 700, category 21, version 13): one booking per ledger entry.

Line 1 is the 31-field header, line 2 the column names, then the bookings: the amount without sign and with a
decimal comma, S/H for the bank account (S: money came in, H: money went out), the bank account as Konto
and the kind's contra account as Gegenkonto, Belegdatum as DDMM, the receipt number as Belegfeld 1 and a
Buchungstext of at most 60 characters. Semicolons, CR/LF, text in double quotes, Windows-1252 by default."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crowdfund.services.finance_exports import JournalLine, decimal

COLUMNS = ("Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
           "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum",
           "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext")
TEXTS = {"charge": "Zahlung", "refund": "Erstattung", "match": "Matching", "fee": "Gebühr", "payout": "Auszahlung"}
BOOKING_TEXT_MAX = 60
ENCODINGS = ("cp1252", "utf-8-sig")


class DatevError(ValueError):
    """The export cannot be made as asked (e.g. the period spans two fiscal years)."""


@dataclass(frozen=True)
class DatevSettings:
    adviser_number: int
    client_number: int
    fiscal_year_start: str  # MMDD
    account_length: int
    chart: str  # "03" or "04"
    accounts: dict[str, str]  # bank, charge, refund, match, fee, payout
    encoding: str = "cp1252"

    @classmethod
    def from_config(cls, config: Any, encoding: str | None = None) -> DatevSettings:
        """Read the DATEV_* settings of config.py."""
        revenue = str(config["DATEV_ACCOUNT_REVENUE"])
        accounts = {"bank": str(config["DATEV_ACCOUNT_BANK"]), "charge": revenue, "refund": revenue,
                    "match": str(config["DATEV_ACCOUNT_MATCHING"]), "fee": str(config["DATEV_ACCOUNT_FEES"]),
                    "payout": str(config["DATEV_ACCOUNT_PAYOUTS"])}
        chosen = encoding or str(config.get("DATEV_ENCODING", "cp1252"))
        if chosen not in ENCODINGS:
            raise DatevError(f"encoding must be one of {ENCODINGS}: {chosen!r}")
        return cls(int(config["DATEV_ADVISER_NUMBER"]), int(config["DATEV_CLIENT_NUMBER"]),
                   str(config["DATEV_FISCAL_YEAR_START"]), int(config["DATEV_ACCOUNT_LENGTH"]),
                   str(config["DATEV_CHART"]), accounts, chosen)


def fiscal_year_start(day: date, mmdd: str) -> date:
    """Return the first day of the fiscal year that `day` belongs to."""
    start = date(day.year, int(mmdd[:2]), int(mmdd[2:]))
    return start if day >= start else date(day.year - 1, start.month, start.day)


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def header(settings: DatevSettings, start: date, end: date, created: datetime) -> str:
    """Build the 31-field header line; the period must lie in one fiscal year (a DATEV rule)."""
    fy_start = fiscal_year_start(start, settings.fiscal_year_start)
    if fiscal_year_start(end, settings.fiscal_year_start) != fy_start or end < start:
        raise DatevError("the period must lie within one fiscal year")
    stamp = created.strftime("%Y%m%d%H%M%S") + f"{created.microsecond // 1000:03d}"
    label = f"Crowdfunding {start:%d.%m.%Y}-{end:%d.%m.%Y}"[:30]
    fields = [quoted("EXTF"), "700", "21", quoted("Buchungsstapel"), "13", stamp, "", quoted("RE"),
              quoted("Crowdfunding Kassel"), quoted(""), str(settings.adviser_number), str(settings.client_number),
              f"{fy_start:%Y%m%d}", str(settings.account_length), f"{start:%Y%m%d}", f"{end:%Y%m%d}", quoted(label),
              quoted(""), "1", "0", "0", quoted("EUR"), "", quoted(""), "", "", quoted(settings.chart), "", "",
              quoted(""), quoted("")]
    assert len(fields) == 31
    return ";".join(fields)


def booking(line: JournalLine, settings: DatevSettings) -> str:
    """Build one booking line of a ledger entry."""
    text = f"{TEXTS.get(line.kind, line.kind)} {line.project}"
    if line.backer and line.kind in ("charge", "refund"):
        text += f" / {line.backer}"
    fields = [decimal(abs(line.amount_cents), ","), quoted("S" if line.amount_cents > 0 else "H"),
              quoted(line.currency), "", "", "", settings.accounts["bank"], settings.accounts[line.kind], "",
              f"{line.booked_on:%d%m}", quoted(line.reference[:36]), quoted(""), "",
              quoted(" ".join(text.split())[:BOOKING_TEXT_MAX])]
    return ";".join(fields)


def datev_csv(lines: Iterable[JournalLine], settings: DatevSettings, *, start: date, end: date,
              created: datetime, batch: int = 200) -> Iterator[bytes]:
    """Stream the Buchungsstapel: header, column names, bookings; encoded as the settings say."""
    head = header(settings, start, end, created) + "\r\n" + ";".join(COLUMNS) + "\r\n"
    yield _encode(head, settings.encoding)
    chunk: list[str] = []
    for line in lines:
        chunk.append(booking(line, settings) + "\r\n")
        if len(chunk) == batch:
            yield _encode("".join(chunk), settings.encoding, first=False)
            chunk = []
    yield _encode("".join(chunk), settings.encoding, first=False)


def _encode(text: str, encoding: str, *, first: bool = True) -> bytes:
    if encoding == "utf-8-sig":
        return (b"\xef\xbb\xbf" if first else b"") + text.encode("utf-8")
    return text.encode("cp1252", errors="replace")
