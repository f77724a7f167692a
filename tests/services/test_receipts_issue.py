"""Issuing receipts: one document per paid pledge and per refund, gap-free numbers, stored bytes that never
change, failures that never touch the payment and are finished by the next run."""

from __future__ import annotations

import hashlib
import io

import pdfplumber
import pytest
from sqlalchemy import select, update

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.receipts import Receipt, ReceiptCounter
from crowdfund.services import receipts
from crowdfund.services.receipt_content import ReceiptSettings, from_json
from payments.fake import FakeGateway
from tests.finance_factories import (
    TODAY,
    give_address,
    give_donation_profile,
    issue_all,
    make_paid_project,
    refund,
)


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def all_receipts(session) -> list[Receipt]:
    session.expire_all()
    return list(session.scalars(select(Receipt).order_by(Receipt.id)))


def test_every_paid_pledge_gets_one_payment_confirmation_with_consecutive_numbers(app, session, fake):
    make_paid_project(app, session, fake, [5_000, 2_550, 12_345])

    report = issue_all(app)

    assert report.issued == ["KS-2026-000001", "KS-2026-000002", "KS-2026-000003"]
    rows = all_receipts(session)
    assert [(r.kind, r.status, r.sequence) for r in rows] == [("payment_confirmation", "issued", n) for n in (1, 2, 3)]
    assert all(r.sha256 == hashlib.sha256(r.pdf).hexdigest() for r in rows)
    assert session.scalar(select(ReceiptCounter.last_sequence)) == 3


def test_a_second_run_issues_nothing_and_changes_no_stored_bytes(app, session, fake):
    make_paid_project(app, session, fake, [5_000, 2_000])
    issue_all(app)
    before = [(r.number, r.pdf, r.sha256) for r in all_receipts(session)]

    report = issue_all(app)

    assert report.issued == []
    assert [(r.number, r.pdf, r.sha256) for r in all_receipts(session)] == before


def test_the_fake_pdf_shows_number_amount_in_digits_and_words_and_the_names(app, session, fake):
    paid = make_paid_project(app, session, fake, [12_345], title="Lastenrad für Wesertor")
    issue_all(app)

    receipt = all_receipts(session)[0]
    text = pdf_text(receipt.pdf)

    assert "KS-2026-000001" in text
    assert "123,45" in text
    assert "einhundertdreiundzwanzig Euro und fünfundvierzig Cent" in text
    assert "Lastenrad für Wesertor" in text
    assert "Backer 0" in text and "Crowdfunding Kassel" in text
    assert paid.pledges[0].payment_intent_id in text


def test_a_refund_gets_a_cancellation_that_names_the_cancelled_document(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000])
    issue_all(app)
    entry_id = refund(session, fake, paid.pledges[0], 1_250)

    report = issue_all(app)

    original, cancellation = all_receipts(session)
    assert report.issued == ["KS-2026-000002"]
    assert (cancellation.kind, cancellation.refund_entry_id, cancellation.cancels_id) == (
        "cancellation", entry_id, original.id)
    assert cancellation.amount_cents == 1_250
    text = pdf_text(cancellation.pdf)
    assert "KS-2026-000001" in text and "12,50" in text
    assert original.status == "issued" and original.sha256 == hashlib.sha256(original.pdf).hexdigest()


def test_a_refund_before_the_first_run_gets_its_cancellation_after_the_payment_document(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000])
    refund(session, fake, paid.pledges[0], None)

    issue_all(app)

    assert [(r.number, r.kind) for r in all_receipts(session)] == [
        ("KS-2026-000001", "payment_confirmation"), ("KS-2026-000002", "cancellation")]


def test_a_rendering_failure_leaves_the_payment_alone_and_the_next_run_issues_under_the_same_number(app, session,
                                                                                                    fake):
    paid = make_paid_project(app, session, fake, [5_000, 3_000])

    def broken(data):
        raise RuntimeError("fonts missing")

    report = issue_all(app, renderer=broken)

    assert len(report.failed) == 2 and report.issued == []
    assert {p.status for p in session.scalars(select(Pledge))} == {"paid"}
    numbered = all_receipts(session)
    assert [(r.number, r.status, r.pdf) for r in numbered] == [
        ("KS-2026-000001", "numbered", None), ("KS-2026-000002", "numbered", None)]
    assert "fonts missing" in numbered[0].last_error

    again = issue_all(app)

    assert again.issued == ["KS-2026-000001", "KS-2026-000002"]
    assert [r.status for r in all_receipts(session)] == ["issued", "issued"]
    assert paid.pledges[0].status == "paid"


def test_the_content_snapshot_is_what_is_rendered_later_even_if_the_backer_renames(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000])

    def broken(data):
        raise RuntimeError("later")

    issue_all(app, renderer=broken)
    paid.pledges[0].backer.name = "Renamed Backer"
    session.commit()
    issue_all(app)

    receipt = all_receipts(session)[0]
    assert from_json(receipt.content).backer.name == "Backer 0"
    assert "Renamed Backer" not in pdf_text(receipt.pdf)


def test_an_issued_receipt_is_never_stored_again(app, session, fake):
    make_paid_project(app, session, fake, [5_000])
    issue_all(app)
    receipt = all_receipts(session)[0]

    with app.extensions["db_sessionmaker"]() as other, other.begin():
        stored = receipts.store_pdf(other, receipt.id, b"%PDF-forged", "0" * 64)

    assert stored is False
    assert all_receipts(session)[0].pdf == receipt.pdf


def test_a_tax_privileged_recipient_and_no_reward_give_a_donation_receipt_in_the_recipients_series(app, session,
                                                                                                  fake):
    paid = make_paid_project(app, session, fake, [10_000], tax_privileged=True)
    give_address(session, paid.pledges[0].backer)
    give_donation_profile(session, paid.project)

    report = issue_all(app)

    receipt = all_receipts(session)[0]
    assert receipt.kind == "donation_receipt"
    assert report.issued == [f"KSP{paid.project.id}-2026-000001"]
    text = pdf_text(receipt.pdf)
    assert "Bestätigung über Geldzuwendungen" in text
    assert "Wilhelmshöher Allee 73" in text and "Verein Nachbarschaft e. V." in text


def test_a_donation_receipt_waits_for_the_backers_address_and_the_recipients_tax_facts(app, session, fake):
    paid = make_paid_project(app, session, fake, [10_000], tax_privileged=True)

    first = issue_all(app)
    give_address(session, paid.pledges[0].backer)
    second = issue_all(app)
    give_donation_profile(session, paid.project)
    third = issue_all(app)

    assert first.issued == [] and "address" in first.waiting[0]
    assert second.issued == [] and "tax facts" in second.waiting[0]
    assert len(third.issued) == 1
    assert session.scalar(select(ReceiptCounter.last_sequence)) == 1  # waiting took no number


def test_recipient_mode_numbers_each_project_in_its_own_series(app, session, fake):
    first = make_paid_project(app, session, fake, [1_000, 2_000])
    second = make_paid_project(app, session, fake, [3_000], world=first.world)
    settings = ReceiptSettings(issuer_mode="recipient", prefix="KS")

    report = issue_all(app, settings=settings)

    assert sorted(report.issued) == sorted([f"KSP{first.project.id}-2026-000001",
                                            f"KSP{first.project.id}-2026-000002",
                                            f"KSP{second.project.id}-2026-000001"])
    assert from_json(all_receipts(session)[0].content).issuer.name == "Verein Nachbarschaft e. V."


def test_a_new_year_starts_the_series_at_one_and_retention_runs_ten_years_from_its_end(app, session, fake):
    paid = make_paid_project(app, session, fake, [1_000, 2_000])
    issue_all(app, today=TODAY)
    refund(session, fake, paid.pledges[0], None)

    issue_all(app, today=TODAY.replace(year=2027))

    rows = all_receipts(session)
    assert [r.number for r in rows] == ["KS-2026-000001", "KS-2026-000002", "KS-2027-000001"]
    assert str(rows[0].retention_until) == "2036-12-31"


def test_a_rolled_back_numbering_gives_its_number_back(app, session, fake):
    make_paid_project(app, session, fake, [1_000])
    factory = app.extensions["db_sessionmaker"]
    with factory() as other:
        assert receipts.take_sequence(other, "platform", 2026) == 1
        other.rollback()

    issue_all(app)

    assert [r.number for r in all_receipts(session)] == ["KS-2026-000001"]


def test_numbers_taken_one_after_another_never_repeat_or_skip(app, session):
    factory = app.extensions["db_sessionmaker"]
    taken = []
    for _ in range(5):
        with factory() as other, other.begin():
            taken.append(receipts.take_sequence(other, "platform", 2026))
    assert taken == [1, 2, 3, 4, 5]


def test_a_refund_line_changed_later_does_not_change_its_cancellation(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000])
    entry_id = refund(session, fake, paid.pledges[0], 1_000)
    issue_all(app)
    cancellation = all_receipts(session)[1]
    session.execute(update(LedgerEntry).where(LedgerEntry.id == entry_id).values(note="touched"))
    session.commit()

    issue_all(app)

    assert all_receipts(session)[1].pdf == cancellation.pdf



def test_the_cancellation_of_a_donation_receipt_is_numbered_in_the_recipients_series(app, session, fake):
    paid = make_paid_project(app, session, fake, [10_000], tax_privileged=True)
    give_address(session, paid.pledges[0].backer)
    give_donation_profile(session, paid.project)
    refund(session, fake, paid.pledges[0], None)

    report = issue_all(app)

    series = f"KSP{paid.project.id}-2026"
    assert report.issued == [f"{series}-000001", f"{series}-000002"]
    donation, cancellation = all_receipts(session)
    assert cancellation.issuer_key == donation.issuer_key and cancellation.kind == "cancellation"
    assert "Zuwendungsbestätigung" in pdf_text(cancellation.pdf)
