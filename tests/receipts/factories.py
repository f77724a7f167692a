"""Plain factory functions for receipt data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from receipts.documents import CancellationDetails, DocumentKind, DonationDetails, Party, ReceiptData

ISSUER = Party("Verein für Stadtgrün Kassel e. V.", ("Friedrichsplatz 1", "34117 Kassel"))
BACKER = Party("Jürgen Müller-Lüdenscheidt", ("Wilhelmshöher Allee 73", "34121 Kassel"))


def donation_details(**overrides: object) -> DonationDetails:
    details = DonationDetails(
        purpose="des Umweltschutzes",
        tax_office="Kassel-Hofgeismar",
        tax_number="026 250 12345",
        notice_date=date(2025, 2, 14),
        assessment_period="2021 bis 2023",
        place="Kassel",
    )
    return replace(details, **overrides)


def receipt_data(
    kind: DocumentKind = DocumentKind.PAYMENT_CONFIRMATION, language: str = "de", **overrides: object
) -> ReceiptData:
    extra: dict[str, object] = {}
    if kind is DocumentKind.DONATION_RECEIPT:
        extra["donation"] = donation_details()
    if kind is DocumentKind.CANCELLATION:
        extra["cancellation"] = CancellationDetails(cancelled_number="KS-2026-000041", refunded_amount_cents=5000)
    fields: dict[str, object] = {
        "kind": kind,
        "number": "KS-2026-000042",
        "issue_date": date(2026, 3, 2),
        "payment_date": date(2026, 3, 1),
        "issuer": ISSUER,
        "backer": BACKER,
        "amount_cents": 12345,
        "project_title": "Reparaturstation am Kulturbahnhof",
        "payment_method": "card",
        "provider_reference": "pi_3PqXyZ2eZvKYlo2C0abcdEFG",
        "language": language,
        **extra,
        **overrides,
    }
    return ReceiptData(**fields)  # type: ignore[arg-type]
