"""Exports for the accountants, each streamed: the CSV journal, the DATEV EXTF Buchungsstapel and a ZIP of the
receipt PDFs. Rows come from the database in batches (`yield_per`), so memory stays flat for any period."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Payout, Receipt
from crowdfund.models.users import User
from crowdfund.services.finance import Period
from crowdfund.services.receipt_content import local_date
from receipts.zipstream import stream_zip

BATCH = 500
Progress = Callable[[], None] | None
JOURNAL_COLUMNS = ("entry_id", "document_number", "type", "booking_date", "document_date", "backer", "project",
                   "amount", "currency", "provider_reference", "status", "pdf_sha256")


@dataclass(frozen=True)
class JournalLine:
    """One ledger entry with what the accountants need beside it."""

    entry_id: int
    kind: str
    booked_on: date
    amount_cents: int
    currency: str
    provider_ref: str
    status: str
    backer: str
    project: str
    document_number: str
    document_date: date | None
    sha256: str

    @property
    def reference(self) -> str:
        """Belegfeld 1: the receipt number, else the payout's or the ledger line's own reference."""
        if self.document_number:
            return self.document_number
        return f"PAYOUT-{self.provider_ref}" if self.kind == "payout" else f"LEDGER-{self.entry_id}"


def decimal(cents: int, separator: str = ".") -> str:
    """Write integer cents as a decimal amount without float: -1234 -> "-12.34"."""
    sign = "-" if cents < 0 else ""
    units, subunits = divmod(abs(cents), 100)
    return f"{sign}{units}{separator}{subunits:02d}"


def journal_lines(session: Session, period: Period, *, timezone: str = "Europe/Berlin",
                  on_item: Progress = None) -> Iterator[JournalLine]:
    """Yield the period's ledger entries, oldest first, joined to pledge, backer, project and document."""
    payment_doc, cancel_doc = aliased(Receipt), aliased(Receipt)
    stmt = (select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.created_at, LedgerEntry.amount_cents,
                   LedgerEntry.currency, LedgerEntry.provider_ref, Pledge.status.label("pledge_status"),
                   User.name.label("backer"), Project.title, Payout.id.label("payout_id"),
                   Payout.status.label("payout_status"),
                   func.coalesce(cancel_doc.number, payment_doc.number).label("number"),
                   func.coalesce(cancel_doc.issue_date, payment_doc.issue_date).label("issue_date"),
                   func.coalesce(cancel_doc.sha256, payment_doc.sha256).label("sha256"))
            .join(Project, Project.id == LedgerEntry.project_id)
            .outerjoin(Pledge, Pledge.id == LedgerEntry.pledge_id)
            .outerjoin(User, User.id == Pledge.backer_id)
            .outerjoin(payment_doc, and_(payment_doc.pledge_id == LedgerEntry.pledge_id, LedgerEntry.kind == "charge",
                                         payment_doc.refund_entry_id.is_(None)))
            .outerjoin(cancel_doc, cancel_doc.refund_entry_id == LedgerEntry.id)
            .outerjoin(Payout, Payout.ledger_entry_id == LedgerEntry.id)
            .where(*period.clause(LedgerEntry.created_at)).order_by(LedgerEntry.id))
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        yield _line(row, timezone)
        if on_item is not None:
            on_item()


def _line(row: Any, timezone: str) -> JournalLine:
    is_payout = row.kind == "payout"
    return JournalLine(
        entry_id=row.id, kind=row.kind, booked_on=local_date(row.created_at, timezone), amount_cents=row.amount_cents,
        currency=row.currency, provider_ref=(str(row.payout_id) if is_payout and row.payout_id else row.provider_ref)
        or "", status=(row.payout_status if is_payout else row.pledge_status) or "", backer=row.backer or "",
        project=row.title, document_number=row.number or "", document_date=row.issue_date, sha256=row.sha256 or "")


def count_entries(session: Session, period: Period) -> int:
    """Return how many ledger entries the period has (for a progress bar)."""
    return int(session.scalar(select(func.count(LedgerEntry.id)).where(*period.clause(LedgerEntry.created_at))) or 0)


def journal_csv(lines: Iterable[JournalLine], *, batch: int = 200) -> Iterator[bytes]:
    """Write the CSV journal (UTF-8 with BOM, comma-separated, amounts with a decimal point), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(JOURNAL_COLUMNS)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for n, line in enumerate(lines, start=1):
        writer.writerow([line.entry_id, line.document_number, line.kind, line.booked_on.isoformat(),
                         line.document_date.isoformat() if line.document_date else "", line.backer, line.project,
                         decimal(line.amount_cents), line.currency, line.provider_ref, line.status, line.sha256])
        if n % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# --- receipts ZIP ---------------------------------------------------------------------------------------


def receipt_filter(period: Period) -> list[Any]:
    clauses: list[Any] = [Receipt.status == "issued"]
    if period.start:
        clauses.append(Receipt.issue_date >= period.start)
    if period.end:
        clauses.append(Receipt.issue_date <= period.end)
    return clauses


def count_receipts(session: Session, period: Period) -> int:
    """Return how many issued receipts the period has (for a progress bar)."""
    return int(session.scalar(select(func.count(Receipt.id)).where(*receipt_filter(period))) or 0)


def receipts_zip(session: Session, period: Period, *, batch: int = 100, on_item: Progress = None) -> Iterator[bytes]:
    """Stream a ZIP of the period's issued receipts, `<number>.pdf` each, stored bytes as they are.

    Only plain rows (number, bytes) are fetched, `batch` at a time and never kept in the session."""
    stmt = (select(Receipt.number, Receipt.pdf).where(*receipt_filter(period)).order_by(Receipt.number)
            .execution_options(yield_per=batch))

    def entries() -> Iterator[tuple[str, bytes]]:
        for number, pdf in session.execute(stmt):
            yield f"{number}.pdf", bytes(pdf)
            if on_item is not None:
                on_item()

    return stream_zip(entries(), modified=datetime.now(UTC))
