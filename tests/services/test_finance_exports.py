"""The accountants' exports: CSV journal, DATEV EXTF Buchungsstapel, and the streamed ZIP of receipts."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.receipts import Receipt
from crowdfund.services import finance_exports
from crowdfund.services.finance import Period
from crowdfund.services.finance_datev import DatevError, DatevSettings, datev_csv
from payments.fake import FakeGateway
from tests.finance_factories import issue_all, make_paid_project, refund

CONFIG = {"DATEV_ADVISER_NUMBER": 29098, "DATEV_CLIENT_NUMBER": 55003, "DATEV_FISCAL_YEAR_START": "0101",
          "DATEV_ACCOUNT_LENGTH": 4, "DATEV_CHART": "03", "DATEV_ACCOUNT_BANK": "1200",
          "DATEV_ACCOUNT_REVENUE": "1590", "DATEV_ACCOUNT_MATCHING": "1591", "DATEV_ACCOUNT_FEES": "4970",
          "DATEV_ACCOUNT_PAYOUTS": "1592"}


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def booked(app, session, fake):
    """Three paid pledges (one of a backer with a non-Latin-1 name), a partial refund, receipts issued."""
    paid = make_paid_project(app, session, fake, [5_000, 2_550, 12_345], title="Lastenrad für Wesertor")
    paid.pledges[2].backer.name = "Zoë Œlschläger"
    session.commit()
    refund(session, fake, paid.pledges[0], 1_250)
    issue_all(app)
    session.expire_all()
    return paid


def today() -> date:
    return datetime.now(UTC).date()


def this_year() -> Period:
    day = today()
    return Period(date(day.year, 1, 1), date(day.year, 12, 31), "UTC")


def datev_text(session, encoding: str = "cp1252") -> str:
    period = this_year()
    settings = DatevSettings.from_config(CONFIG, encoding)
    lines = finance_exports.journal_lines(session, period, timezone="UTC")
    raw = b"".join(datev_csv(lines, settings, start=period.start, end=period.end,
                             created=datetime(2026, 3, 2, 14, 4, 40, 439_000, tzinfo=UTC)))
    return raw.decode("utf-8-sig" if encoding == "utf-8-sig" else "cp1252")


def parse(text: str) -> list[list[str]]:
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"'))


def test_the_datev_header_has_31_fields_in_the_extf_700_layout(session, booked):
    header = parse(datev_text(session))[0]
    year = today().year

    assert len(header) == 31
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert header[5] == "20260302140440439"
    assert header[10:16] == ["29098", "55003", f"{year}0101", "4", f"{year}0101", f"{year}1231"]
    assert header[21] == "EUR" and header[26] == "03"


def test_the_datev_bookings_parse_back_and_sum_to_the_ledger(session, booked):
    rows = parse(datev_text(session))
    columns, bookings = rows[1], rows[2:]
    ledger = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()

    assert columns[:14] == ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs",
                            "Basis-Umsatz", "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)",
                            "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext"]
    assert len(bookings) == len(ledger)
    signed = [(1 if row[1] == "S" else -1) * int(row[0].replace(",", "")) for row in bookings]
    assert signed == [entry.amount_cents for entry in ledger]
    assert sum(signed) == sum(entry.amount_cents for entry in ledger) == 5_000 + 2_550 + 12_345 - 1_250
    assert all("," in row[0] and "." not in row[0] for row in bookings)
    assert all(row[6] == "1200" and len(row[9]) == 4 and len(row[13]) <= 60 for row in bookings)


def test_datev_belegfeld_1_is_the_receipt_number_and_the_contra_account_follows_the_kind(session, booked):
    bookings = parse(datev_text(session))[2:]
    numbers = dict(session.execute(select(Receipt.source_key, Receipt.number)).all())
    refund_entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refund")).one()

    charges = [row for row in bookings if row[1] == "S"]
    refunds = [row for row in bookings if row[1] == "H"]
    assert [row[10] for row in charges] == [numbers[f"pledge-{p.id}"] for p in booked.pledges]
    assert refunds[0][10] == numbers[f"refund-{refund_entry.id}"]
    assert {row[7] for row in bookings} == {"1590"}
    assert refunds[0][0] == "12,50"
    assert charges[0][9] == f"{today():%d%m}"


def test_datev_is_windows_1252_by_default_and_utf8_with_bom_on_request(session, booked):
    period = this_year()
    settings = DatevSettings.from_config(CONFIG)
    raw = b"".join(datev_csv(finance_exports.journal_lines(session, period, timezone="UTC"), settings,
                             start=period.start, end=period.end, created=datetime.now(UTC)))

    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "Lastenrad für Wesertor".encode("cp1252") in raw
    assert "Zoë Œlschläger".encode("cp1252") in raw  # Œ is in Windows-1252, not in Latin-1
    assert datev_text(session, "utf-8-sig").startswith('"EXTF"')
    utf8 = b"".join(datev_csv(finance_exports.journal_lines(session, period, timezone="UTC"),
                              DatevSettings.from_config(CONFIG, "utf-8-sig"), start=period.start, end=period.end,
                              created=datetime.now(UTC)))
    assert utf8.startswith(b"\xef\xbb\xbf\"EXTF\"") and utf8.count(b"\xef\xbb\xbf") == 1


def test_a_datev_period_across_two_fiscal_years_is_refused(session, booked):
    settings = DatevSettings.from_config({**CONFIG, "DATEV_FISCAL_YEAR_START": "0701"})
    chunks = datev_csv(iter(()), settings, start=date(2026, 6, 1), end=date(2026, 7, 31), created=datetime.now(UTC))

    with pytest.raises(DatevError):
        next(chunks)


def test_the_csv_journal_has_one_row_per_ledger_entry_with_document_and_hash(session, booked):
    raw = b"".join(finance_exports.journal_csv(finance_exports.journal_lines(session, Period())))
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    receipts_by_number = {r.number: r for r in session.scalars(select(Receipt))}

    assert len(rows) == session.scalar(select(func.count(LedgerEntry.id)))
    assert [row["type"] for row in rows] == ["charge", "charge", "charge", "refund"]
    assert [row["amount"] for row in rows] == ["50.00", "25.50", "123.45", "-12.50"]
    for row in rows:
        receipt = receipts_by_number[row["document_number"]]
        assert row["pdf_sha256"] == receipt.sha256 and row["document_date"] == receipt.issue_date.isoformat()
        assert row["project"] == "Lastenrad für Wesertor" and row["provider_reference"].startswith(("pi_", "re_"))
    assert rows[-1]["status"] == "partially_refunded" and rows[2]["backer"] == "Zoë Œlschläger"


def test_the_journal_of_an_empty_period_has_only_its_header(session, booked):
    period = Period(date(2001, 1, 1), date(2001, 1, 31))
    raw = b"".join(finance_exports.journal_csv(finance_exports.journal_lines(session, period)))

    assert raw.decode("utf-8-sig").strip() == ",".join(finance_exports.JOURNAL_COLUMNS)


def test_the_zip_holds_each_issued_receipt_under_its_number_with_the_stored_bytes(session, booked):
    raw = b"".join(finance_exports.receipts_zip(session, Period()))

    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = archive.namelist()
        stored = {r.number: r.pdf for r in session.scalars(select(Receipt))}
        assert names == sorted(f"{number}.pdf" for number in stored)
        assert all(archive.read(f"{n}.pdf") == pdf for n, pdf in stored.items())
        assert archive.testzip() is None


def insert_receipts(session, project_id: int, pledge_id: int, backer_id: int, n: int, size: int) -> int:
    """Insert `n` issued receipts of `size` bytes each straight into the table; return the total size."""
    day = date(2026, 3, 2)
    for start in range(0, n, 200):
        session.execute(insert(Receipt), [
            {"number": f"KS-2026-{i + 1:06d}", "issuer_key": "bulk", "year": 2026, "sequence": i + 1,
             "kind": "payment_confirmation", "status": "issued", "source_key": f"bulk-{i}", "pledge_id": pledge_id,
             "backer_id": backer_id, "project_id": project_id, "amount_cents": 100, "issue_date": day,
             "content": {}, "pdf": i.to_bytes(4, "big") * (size // 4), "sha256": "0" * 64,
             "retention_until": day + timedelta(days=3650), "numbered_at": datetime.now(UTC)}
            for i in range(start, min(n, start + 200))])
    session.commit()
    return n * size


def test_the_zip_of_many_receipts_keeps_memory_flat(app, session, fake):
    paid = make_paid_project(app, session, fake, [1_000])
    pledge = paid.pledges[0]
    total = insert_receipts(session, paid.project.id, pledge.id, pledge.backer_id, n=1_500, size=16_384)
    session.expire_all()

    written, count = 0, 0
    tracemalloc.start()
    try:
        for chunk in finance_exports.receipts_zip(session, Period(date(2026, 3, 1), date(2026, 3, 31)), batch=50):
            written += len(chunk)
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert written > total  # everything went through
    assert peak < total / 8, f"peak {peak} bytes for {total} bytes of receipts"
