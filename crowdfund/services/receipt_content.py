"""What a receipt shows, decided from the database when its number is taken, and kept as a JSON snapshot.

Rendering later (or again, after a crash between numbering and storing) reads only the snapshot, so the
PDF shows the facts of the moment of issue under the number assigned then."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.receipts import DonationProfile, Receipt, ReceiptAddress
from crowdfund.services.audit import record_change
from receipts.documents import (
    CancellationDetails,
    DocumentKind,
    DonationDetails,
    NoticeKind,
    Party,
    ReceiptData,
    payment_document_kind,
)

PLATFORM = "platform"
PLACEHOLDER_NUMBER = "X-2000-000001"  # replaced by the real number inside the numbering transaction


@dataclass(frozen=True)
class ReceiptSettings:
    """The receipt settings of the app (RECEIPT_* in config.py), as plain values."""

    issuer_mode: str = PLATFORM  # "platform" or "recipient"
    prefix: str = "KS"
    issuer_name: str = "Crowdfunding Kassel"
    issuer_address: tuple[str, ...] = ()
    retention_years: int = 10
    timezone: str = "Europe/Berlin"

    @classmethod
    def from_config(cls, config: Any) -> ReceiptSettings:
        """Read the RECEIPT_* settings; address lines are separated by newlines or '|'."""
        raw = str(config.get("RECEIPT_ISSUER_ADDRESS", "")).replace("\\n", "\n").replace("|", "\n")
        return cls(issuer_mode=str(config.get("RECEIPT_ISSUER_MODE", PLATFORM)),
                   prefix=str(config.get("RECEIPT_PREFIX", "KS")),
                   issuer_name=str(config.get("RECEIPT_ISSUER_NAME", "Crowdfunding Kassel")),
                   issuer_address=address_lines(raw),
                   retention_years=int(config.get("RECEIPT_RETENTION_YEARS", 10)),
                   timezone=str(config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Berlin")))


@dataclass(frozen=True)
class Series:
    """The number series a document belongs to: issuer key (counter row) and the number's prefix."""

    issuer_key: str
    prefix: str


class Waiting(Exception):
    """A document that cannot be issued yet (`reason`: address, donation_profile, payment_document)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def address_lines(text: str) -> tuple[str, ...]:
    """Split a postal address into its non-empty lines."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def local_date(moment: datetime, timezone: str) -> date:
    """Return the calendar date of a UTC moment on the platform's wall clock."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def series_for(settings: ReceiptSettings, kind: DocumentKind, project_id: int) -> Series:
    """Choose the number series: the platform's, or the recipient's (always for a donation receipt, since
    only the tax-privileged recipient itself may confirm a donation)."""
    if settings.issuer_mode == PLATFORM and kind is not DocumentKind.DONATION_RECEIPT:
        return Series(PLATFORM, settings.prefix)
    return Series(f"project-{project_id}", f"{settings.prefix}P{project_id}")


def payment_content(session: Session, pledge: Pledge, settings: ReceiptSettings, *, today: date) -> ReceiptData:
    """Decide the payment document of a paid pledge (number still a placeholder); raise Waiting if a
    donation receipt lacks the backer's address or the recipient's tax facts."""
    project = pledge.project
    kind = payment_document_kind(recipient_tax_privileged=project.recipient_tax_privileged,
                                 pledge_has_reward=pledge.reward_id is not None)
    address = session.scalars(select(ReceiptAddress).where(ReceiptAddress.user_id == pledge.backer_id)).first()
    donation = None
    if kind is DocumentKind.DONATION_RECEIPT:
        if address is None:
            raise Waiting("address", f"pledge {pledge.id}: the backer has not given an address for the receipt")
        donation = _donation_details(session, project.id)
    issuer = _issuer(settings, kind, project.recipient_name, project.recipient_address)
    backer = Party(address.name, address_lines(address.address)) if address else Party(pledge.backer.name)
    paid_at = pledge.paid_at or pledge.updated_at
    return ReceiptData(
        kind=kind, number=PLACEHOLDER_NUMBER, issue_date=today, payment_date=local_date(paid_at, settings.timezone),
        issuer=issuer, backer=backer, amount_cents=pledge.paid_cents, project_title=project.title,
        payment_method=pledge.payment_method_type or "card", provider_reference=pledge.payment_intent_id or "",
        currency=pledge.currency, language=_language(pledge.backer.locale), donation=donation)


def cancellation_content(original: Receipt, entry: LedgerEntry, settings: ReceiptSettings, *,
                         today: date) -> ReceiptData:
    """Decide the cancellation document of one refund line: the cancelled document's parties and project,
    the refund's date, amount and provider reference."""
    cancelled = from_json(original.content)
    details = CancellationDetails(original.number, -entry.amount_cents, cancelled.kind)
    return replace(cancelled, kind=DocumentKind.CANCELLATION, number=PLACEHOLDER_NUMBER, issue_date=today,
                   payment_date=local_date(entry.created_at, settings.timezone),
                   provider_reference=entry.provider_ref or "", donation=None, cancellation=details)


def _issuer(settings: ReceiptSettings, kind: DocumentKind, recipient_name: str, recipient_address: str) -> Party:
    if series_for(settings, kind, 0).issuer_key == PLATFORM:
        return Party(settings.issuer_name, settings.issuer_address)
    return Party(recipient_name or settings.issuer_name, address_lines(recipient_address))


def _donation_details(session: Session, project_id: int) -> DonationDetails:
    profile = session.scalars(select(DonationProfile).where(DonationProfile.project_id == project_id)).first()
    if profile is None:
        raise Waiting("donation_profile", f"project {project_id}: the recipient's tax facts are missing")
    return DonationDetails(purpose=profile.purpose, tax_office=profile.tax_office, tax_number=profile.tax_number,
                           notice_date=profile.notice_date, notice_kind=NoticeKind(profile.notice_kind),
                           assessment_period=profile.assessment_period, place=profile.place,
                           signatory=profile.signatory)


def save_donation_profile(session: Session, project_id: int, values: dict[str, Any], *,
                          actor_id: int | None) -> DonationProfile:
    """Create or change a recipient's tax facts; documents already numbered keep the facts of their snapshot."""
    profile = session.scalars(select(DonationProfile).where(DonationProfile.project_id == project_id)).first()
    if profile is None:
        profile = DonationProfile(project_id=project_id)
        session.add(profile)
    for name in ("purpose", "tax_office", "tax_number", "assessment_period", "place", "signatory"):
        setattr(profile, name, (values.get(name) or "").strip())
    profile.notice_date = values["notice_date"]
    profile.notice_kind = NoticeKind(values.get("notice_kind") or NoticeKind.EXEMPTION_NOTICE).value
    session.flush()
    record_change(session, entity_type="project", entity_id=project_id, action="donation_profile",
                  actor_id=actor_id, reason=f"tax number {profile.tax_number}")
    return profile


def _language(locale: str | None) -> str:
    return "en" if (locale or "").startswith("en") else "de"


# --- the JSON snapshot --------------------------------------------------------------------------------------


def to_json(data: ReceiptData) -> dict[str, Any]:
    """Turn a ReceiptData into JSON-safe values (dates as ISO strings)."""
    return _plain(asdict(data))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, (DocumentKind, NoticeKind)) else value


def from_json(raw: dict[str, Any]) -> ReceiptData:
    """Rebuild the ReceiptData that `to_json` stored."""
    values = dict(raw)
    values["issue_date"] = date.fromisoformat(values["issue_date"])
    values["payment_date"] = date.fromisoformat(values["payment_date"])
    values["issuer"] = _party(values["issuer"])
    values["backer"] = _party(values["backer"])
    if values.get("donation"):
        donation = dict(values["donation"])
        donation["notice_date"] = date.fromisoformat(donation["notice_date"])
        donation["notice_kind"] = NoticeKind(donation["notice_kind"])
        values["donation"] = DonationDetails(**donation)
    if values.get("cancellation"):
        cancellation = dict(values["cancellation"])
        cancellation["cancelled_kind"] = DocumentKind(cancellation["cancelled_kind"])
        values["cancellation"] = CancellationDetails(**cancellation)
    return ReceiptData(**values)


def _party(raw: dict[str, Any]) -> Party:
    return Party(raw["name"], tuple(raw.get("address_lines", ())))
