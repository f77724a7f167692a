"""What a receipt document shows, as plain frozen data, and which kind of document a payment gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from receipts.numbering import is_valid_number

LANGUAGES = ("de", "en")
CURRENCIES = ("EUR",)


class DocumentKind(StrEnum):
    PAYMENT_CONFIRMATION = "payment_confirmation"  # Zahlungsbestätigung, a Quittung under § 368 BGB
    DONATION_RECEIPT = "donation_receipt"  # Zuwendungsbestätigung, official BMF wording
    CANCELLATION = "cancellation"  # Stornobeleg for a refund


class NoticeKind(StrEnum):
    EXEMPTION_NOTICE = "exemption_notice"  # Freistellungsbescheid / Anlage zum Körperschaftsteuerbescheid
    ASSESSMENT_60A = "assessment_60a"  # Feststellung der satzungsmäßigen Voraussetzungen nach § 60a AO


@dataclass(frozen=True)
class Party:
    """A name and the address lines below it, as printed."""

    name: str
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class DonationDetails:
    """The recipient's tax facts that the official donation receipt template asks for.

    `purpose` is written as the template continues it: "Wir sind wegen Förderung <purpose> ...",
    e.g. "der Wissenschaft und Forschung (§ 52 Abs. 2 Nr. 1 AO)".
    """

    purpose: str
    tax_office: str  # "Kassel-Hofgeismar", printed after "des Finanzamtes"
    tax_number: str
    notice_date: date
    notice_kind: NoticeKind = NoticeKind.EXEMPTION_NOTICE
    assessment_period: str = ""  # "für den letzten Veranlagungszeitraum 2022 bis 2024" (exemption notice only)
    money_donation: bool = True  # Geldzuwendung (True) or Mitgliedsbeitrag (False)
    waiver_of_expenses: bool = False  # Verzicht auf Erstattung von Aufwendungen
    statutory_purpose: str = ""  # "Wir fördern nach unserer Satzung <...>" (§ 60a notice); defaults to `purpose`
    place: str = ""  # Ort of the signature line
    signatory: str = ""


@dataclass(frozen=True)
class CancellationDetails:
    """The document a cancellation cancels, and how much of it was refunded."""

    cancelled_number: str
    refunded_amount_cents: int
    cancelled_kind: DocumentKind = DocumentKind.PAYMENT_CONFIRMATION


@dataclass(frozen=True)
class ReceiptData:
    """Everything one issued document shows; amounts are integer cents, dates are calendar dates.

    For a cancellation, `amount_cents` is the cancelled document's amount, `payment_date` the refund date
    and `provider_reference` the provider's refund id.
    """

    kind: DocumentKind
    number: str
    issue_date: date
    payment_date: date
    issuer: Party
    backer: Party
    amount_cents: int
    project_title: str
    payment_method: str
    provider_reference: str
    currency: str = "EUR"
    language: str = "de"
    donation: DonationDetails | None = field(default=None)
    cancellation: CancellationDetails | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DocumentKind(self.kind))
        _check_cents(self.amount_cents)
        if not is_valid_number(self.number):
            raise ValueError(f"not a document number: {self.number!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}: {self.language!r}")
        if self.currency not in CURRENCIES:
            raise ValueError(f"currency must be one of {CURRENCIES}: {self.currency!r}")
        _check_details(self)


def _check_cents(cents: int) -> None:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, not {type(cents).__name__}")
    if cents < 0:
        raise ValueError(f"amounts are not negative: {cents}")


def _check_details(data: ReceiptData) -> None:
    is_donation = data.kind is DocumentKind.DONATION_RECEIPT
    is_cancellation = data.kind is DocumentKind.CANCELLATION
    if is_donation != (data.donation is not None):
        raise ValueError("donation details are required for, and only for, a donation receipt")
    if is_cancellation != (data.cancellation is not None):
        raise ValueError("cancellation details are required for, and only for, a cancellation")
    if data.cancellation is not None:
        _check_cents(data.cancellation.refunded_amount_cents)
        if not is_valid_number(data.cancellation.cancelled_number):
            raise ValueError(f"not a document number: {data.cancellation.cancelled_number!r}")
        if data.cancellation.refunded_amount_cents > data.amount_cents:
            raise ValueError("the refund exceeds the cancelled amount")


def payment_document_kind(*, recipient_tax_privileged: bool, pledge_has_reward: bool) -> DocumentKind:
    """Choose the document for a paid pledge: a donation receipt only for a tax-privileged recipient and a
    pledge without a reward (a reward is a consideration, so no gift); otherwise a payment confirmation."""
    if recipient_tax_privileged and not pledge_has_reward:
        return DocumentKind.DONATION_RECEIPT
    return DocumentKind.PAYMENT_CONFIRMATION
