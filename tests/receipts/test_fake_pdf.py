"""The fake PDF renderer for fast tests: text readable with pdfplumber, deterministic, same call shape."""

import inspect
import io

import pdfplumber

from receipts import pdf as real
from receipts.documents import DocumentKind
from receipts.fake_pdf import render_fake_pdf, render_fake_receipt_pdf, visible_lines
from tests.receipts.factories import receipt_data


def test_the_fake_pdf_carries_the_receipt_text():
    pdf, digest = render_fake_receipt_pdf(receipt_data(DocumentKind.CANCELLATION))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = document.pages[0].extract_text()
    assert "KS-2026-000042" in text
    assert "Dieser Stornobeleg storniert die Zahlungsbestätigung Nr. KS-2026-000041." in text
    assert "fünfzig Euro" in text
    assert len(digest) == 64


def test_the_fake_pdf_is_deterministic():
    data = receipt_data()
    assert render_fake_receipt_pdf(data) == render_fake_receipt_pdf(data)


def test_long_documents_continue_on_further_pages():
    html = "".join(f"<p>line {i}</p>" for i in range(150))
    with pdfplumber.open(io.BytesIO(render_fake_pdf(html))) as document:
        assert len(document.pages) == 3
        assert "line 149" in document.pages[2].extract_text()


def test_hidden_parts_of_the_html_are_left_out():
    assert visible_lines("<head><style>p{}</style><title>T</title></head><p>a <b>b</b></p>") == ["a b"]


def test_the_fake_takes_the_same_arguments_as_the_real_renderer():
    assert list(inspect.signature(render_fake_pdf).parameters) == list(inspect.signature(real.render_pdf).parameters)
