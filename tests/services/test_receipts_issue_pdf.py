"""Receipts issued with the real renderer (WeasyPrint, PDF/A-3b): read back with pdfplumber."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from pdfminer.pdftypes import resolve1
from sqlalchemy import select

from crowdfund.cli_finance import render_with_weasyprint
from crowdfund.models.receipts import Receipt
from payments.fake import FakeGateway
from tests.finance_factories import issue_all, make_paid_project, refund


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def issued(app, session, fake) -> list[Receipt]:
    """A payment confirmation and the cancellation of a partial refund, both rendered by WeasyPrint."""
    paid = make_paid_project(app, session, fake, [12_345], title="Lastenrad für Wesertor")
    refund(session, fake, paid.pledges[0], 2_345)
    issue_all(app, renderer=render_with_weasyprint)
    session.expire_all()
    return list(session.scalars(select(Receipt).order_by(Receipt.id)))


def text_of(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    return " ".join(text.split())  # lines wrap where the layout wants


def test_the_real_pdf_shows_number_amount_in_digits_and_words_and_the_names(issued):
    text = text_of(issued[0].pdf)

    assert "KS-2026-000001" in text
    assert "123,45" in text
    assert "einhundertdreiundzwanzig Euro und fünfundvierzig Cent" in text
    assert "Lastenrad für Wesertor" in text
    assert "Backer 0" in text
    assert "Crowdfunding Kassel" in text


def test_the_real_pdf_is_identified_as_pdf_a_3b(issued):
    with pdfplumber.open(io.BytesIO(issued[0].pdf)) as document:
        catalog = document.doc.catalog
        xmp = resolve1(catalog["Metadata"]).get_data().decode()
        intents = resolve1(catalog["OutputIntents"])

    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert resolve1(intents[0])["S"].name == "GTS_PDFA1"


def test_the_real_cancellation_names_the_cancelled_number_and_the_refunded_amount(issued):
    text = text_of(issued[1].pdf)

    assert "KS-2026-000002" in text
    assert "KS-2026-000001" in text
    assert "23,45" in text
