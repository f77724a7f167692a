"""Issuing receipts: gap-free numbers per issuer and year, rendered once, stored bytes that never change.

Issuing runs after the payment (or refund) has committed, in transactions of its own, so a rendering
failure can never roll back money that moved. Two short steps keep the numbering lock off the slow render:
1. number: lock the issuer's counter row for the year, take the next sequence, insert the receipt row
   (status `numbered`, with the snapshot of its content); COMMIT. The lock is held for milliseconds.
2. render the snapshot outside any transaction, then store bytes + SHA-256 where the row is still
   `numbered` (status `issued`); COMMIT.
The number has to be printed in the PDF, so it is taken before rendering. A crash or a rendering error
between the steps leaves a numbered row without bytes; the next `issue-receipts` renders it under the same
number, so no number is ever skipped or used twice. Issued rows are never updated again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from crowdfund.db import utcnow
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.receipts import Receipt, ReceiptCounter
from crowdfund.services.receipt_content import (
    ReceiptSettings,
    Series,
    Waiting,
    cancellation_content,
    from_json,
    payment_content,
    series_for,
    to_json,
)
from receipts.documents import ReceiptData
from receipts.numbering import format_number

log = logging.getLogger(__name__)
Renderer = Callable[[ReceiptData], tuple[bytes, str]]
PAID_STATUSES = ("paid", "partially_refunded", "refunded")


@dataclass
class IssueReport:
    issued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Issued {len(self.issued)} receipt(s); {len(self.failed)} failed (retried next run); "
                 f"{len(self.waiting)} waiting"]
        return "\n".join(lines + [f"FAILED: {item}" for item in self.failed]
                         + [f"WAITING: {item}" for item in self.waiting])


# --- step 1: numbering ----------------------------------------------------------------------------------


def take_sequence(session: Session, issuer_key: str, year: int) -> int:
    """Return the issuer's next sequence number for the year; the caller's transaction holds the counter
    row's lock (the UPDATE takes it, as SELECT ... FOR UPDATE would) until it commits or rolls back, so
    concurrent issuers queue here and a rollback gives the number back: no gaps, no duplicates."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(ReceiptCounter).values(issuer_key=issuer_key, year=year, last_sequence=0)
                    .on_conflict_do_nothing(index_elements=["issuer_key", "year"]))
    stmt = (update(ReceiptCounter).where(ReceiptCounter.issuer_key == issuer_key, ReceiptCounter.year == year)
            .values(last_sequence=ReceiptCounter.last_sequence + 1).returning(ReceiptCounter.last_sequence))
    return int(session.execute(stmt).scalar_one())


def number_document(session: Session, content: ReceiptData, settings: ReceiptSettings, *, source_key: str,
                    pledge: Pledge, refund_entry_id: int | None = None, cancels: Receipt | None = None) -> Receipt:
    """Assign the next number of the document's series and insert its row (status `numbered`); a cancellation
    is numbered in the series of the document it cancels (same issuer)."""
    series = series_for(settings, content.kind, pledge.project_id)
    if cancels is not None:
        series = Series(cancels.issuer_key, cancels.number.rsplit("-", 2)[0])
    year = content.issue_date.year
    sequence = take_sequence(session, series.issuer_key, year)
    number = format_number(series.prefix, year, sequence)
    content = replace(content, number=number)
    amount = content.cancellation.refunded_amount_cents if content.cancellation else content.amount_cents
    receipt = Receipt(number=number, issuer_key=series.issuer_key, year=year, sequence=sequence,
                      kind=content.kind.value, status="numbered", source_key=source_key, pledge_id=pledge.id,
                      refund_entry_id=refund_entry_id, cancels_id=cancels.id if cancels else None,
                      backer_id=pledge.backer_id,
                      project_id=pledge.project_id, language=content.language, amount_cents=amount,
                      currency=content.currency, issue_date=content.issue_date, content=to_json(content),
                      retention_until=date(year + settings.retention_years, 12, 31))
    session.add(receipt)
    session.flush()
    return receipt


def number_payment_document(session: Session, pledge_id: int, settings: ReceiptSettings, *,
                            today: date) -> Receipt | None:
    """Number the payment confirmation or donation receipt of a paid pledge (None: it has one already)."""
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or pledge.status not in PAID_STATUSES or _payment_document(session, pledge_id) is not None:
        return None
    content = payment_content(session, pledge, settings, today=today)
    return number_document(session, content, settings, source_key=f"pledge-{pledge.id}", pledge=pledge)


def number_cancellation(session: Session, entry_id: int, settings: ReceiptSettings, *, today: date) -> Receipt | None:
    """Number the cancellation document of one refund line (None: it has one already)."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.kind != "refund" or entry.pledge_id is None:
        return None
    if session.scalar(select(Receipt.id).where(Receipt.refund_entry_id == entry.id)) is not None:
        return None
    original = _payment_document(session, entry.pledge_id)
    if original is None:
        raise Waiting("payment_document", f"refund {entry.id}: the pledge's payment document is not issued yet")
    pledge = session.get(Pledge, entry.pledge_id)
    assert pledge is not None
    content = cancellation_content(original, entry, settings, today=today)
    return number_document(session, content, settings, source_key=f"refund-{entry.id}", pledge=pledge,
                           refund_entry_id=entry.id, cancels=original)


def _payment_document(session: Session, pledge_id: int) -> Receipt | None:
    stmt = select(Receipt).where(Receipt.pledge_id == pledge_id, Receipt.refund_entry_id.is_(None))
    return session.scalars(stmt).first()


# --- step 2: rendering and storing ----------------------------------------------------------------------


def store_pdf(session: Session, receipt_id: int, pdf: bytes, sha256: str) -> bool:
    """Store a numbered receipt's bytes once; False if it was issued already (its bytes stay as they are)."""
    stmt = (update(Receipt).where(Receipt.id == receipt_id, Receipt.status == "numbered")
            .values(pdf=pdf, sha256=sha256, size_bytes=len(pdf), status="issued", issued_at=utcnow(), last_error=""))
    return session.execute(stmt).rowcount == 1


def render_and_store(session_factory: sessionmaker[Session], renderer: Renderer, receipt_id: int) -> str | None:
    """Render a numbered receipt from its snapshot (no transaction open meanwhile) and store the bytes;
    a rendering error is noted on the row and raised (the row stays numbered for the next run)."""
    with session_factory() as session:
        receipt = session.get(Receipt, receipt_id)
        assert receipt is not None
        number, data = receipt.number, from_json(receipt.content)
    try:
        pdf, sha256 = renderer(data)
    except Exception as error:
        with session_factory() as session, session.begin():
            session.execute(update(Receipt).where(Receipt.id == receipt_id, Receipt.status == "numbered")
                            .values(last_error=f"{type(error).__name__}: {error}"[:2000]))
        raise
    with session_factory() as session, session.begin():
        stored = store_pdf(session, receipt_id, pdf, sha256)
    return number if stored else None


# --- the whole pass -----------------------------------------------------------------------------------


def issue_receipts_pending(session_factory: sessionmaker[Session], renderer: Renderer, settings: ReceiptSettings,
                           *, today: date, limit: int | None = None,
                           on_item: Callable[[], None] | None = None) -> IssueReport:
    """Issue every document that is due: finish numbered ones, then paid pledges without a payment
    document, then refund lines without a cancellation. Each document fails alone (logged, retried later)."""
    report = IssueReport()
    for receipt_id in _numbered_ids(session_factory, limit):
        _step(report, on_item, lambda rid=receipt_id: render_and_store(session_factory, renderer, rid))
    for pledge_id in _pending_pledges(session_factory, limit):
        _step(report, on_item, lambda pid=pledge_id: issue_one(
            session_factory, renderer, lambda s: number_payment_document(s, pid, settings, today=today)))
    for entry_id in _pending_refunds(session_factory, limit):
        _step(report, on_item, lambda eid=entry_id: issue_one(
            session_factory, renderer, lambda s: number_cancellation(s, eid, settings, today=today)))
    return report


def issue_one(session_factory: sessionmaker[Session], renderer: Renderer,
              number: Callable[[Session], Receipt | None]) -> str | None:
    """Number one document in a short transaction of its own, then render and store it."""
    try:
        with session_factory() as session, session.begin():
            receipt = number(session)
            receipt_id = receipt.id if receipt is not None else None
    except IntegrityError:
        return None  # another worker numbered it at the same time; its transaction rolled back, no gap
    if receipt_id is None:
        return None
    return render_and_store(session_factory, renderer, receipt_id)


def _step(report: IssueReport, on_item: Callable[[], None] | None, work: Callable[[], str | None]) -> None:
    try:
        number = work()
        if number:
            report.issued.append(number)
    except Waiting as waiting:
        report.waiting.append(str(waiting))
    except Exception as error:  # a document fails alone; money never depends on it
        log.exception("Could not issue a receipt")
        report.failed.append(f"{type(error).__name__}: {error}")
    if on_item is not None:
        on_item()


def _numbered_ids(session_factory: sessionmaker[Session], limit: int | None) -> list[int]:
    with session_factory() as session:
        return list(session.scalars(select(Receipt.id).where(Receipt.status == "numbered")
                                    .order_by(Receipt.id).limit(limit)))


def _pending_pledges(session_factory: sessionmaker[Session], limit: int | None) -> list[int]:
    has_document = exists().where(Receipt.pledge_id == Pledge.id, Receipt.refund_entry_id.is_(None))
    with session_factory() as session:
        return list(session.scalars(select(Pledge.id).where(Pledge.status.in_(PAID_STATUSES), ~has_document)
                                    .order_by(Pledge.paid_at, Pledge.id).limit(limit)))


def _pending_refunds(session_factory: sessionmaker[Session], limit: int | None) -> list[int]:
    has_document = exists().where(Receipt.refund_entry_id == LedgerEntry.id)
    with session_factory() as session:
        return list(session.scalars(select(LedgerEntry.id).where(
            LedgerEntry.kind == "refund", LedgerEntry.pledge_id.is_not(None), ~has_document)
            .order_by(LedgerEntry.id).limit(limit)))


def count_pending(session_factory: sessionmaker[Session]) -> int:
    """Return how many documents the next pass would try to issue (for a progress bar)."""
    return sum(len(ids(session_factory, None)) for ids in (_numbered_ids, _pending_pledges, _pending_refunds))


# --- reading --------------------------------------------------------------------------------------------


def receipts_of_backer(session: Session, backer_id: int) -> list[Receipt]:
    """Return a backer's documents, newest first (numbered ones too: they show as being prepared)."""
    stmt = (select(Receipt).where(Receipt.backer_id == backer_id).options(selectinload(Receipt.project))
            .order_by(Receipt.issue_date.desc(), Receipt.id.desc()))
    return list(session.scalars(stmt))


def visible_receipt(session: Session, number: str, *, user_id: int, sees_all: bool) -> Receipt | None:
    """Return an issued receipt the user may download: their own, or any for finance and admins."""
    receipt = session.scalars(select(Receipt).where(Receipt.number == number, Receipt.status == "issued")).first()
    if receipt is None or not (sees_all or receipt.backer_id == user_id):
        return None
    return receipt


def stored_pdf(session: Session, receipt_id: int) -> bytes:
    """Return the stored bytes of an issued receipt, exactly as they were stored."""
    pdf = session.scalar(select(Receipt.pdf).where(Receipt.id == receipt_id, Receipt.status == "issued"))
    if pdf is None:
        raise LookupError(f"receipt {receipt_id} has no stored document")
    return bytes(pdf)

