"""Receipt PDFs read back with pdfplumber: texts, PDF/A identification, fonts, determinism, speed."""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber
import pytest
from pdfminer.pdftypes import resolve1
from weasyprint.urls import FatalURLFetchingError

from receipts.documents import DocumentKind, Party
from receipts.pdf import render_pdf, render_receipt_pdf, sha256_hex
from receipts.render import STATIC_DIR, render_html
from tests.receipts.factories import receipt_data

ROOT = Path(__file__).resolve().parents[2]
KINDS = list(DocumentKind)
LANGUAGES = ["de", "en"]
_rendered: dict[tuple[DocumentKind, str], tuple[bytes, str]] = {}

EXPECTED = {
    ("payment_confirmation", "de"): [
        "Zahlungsbestätigung",
        "123,45 €",
        "einhundertdreiundzwanzig Euro und fünfundvierzig Cent",
        "Quittung nach § 368 BGB",
        "Diese Zahlungsbestätigung ist weder eine Zuwendungsbestätigung im Sinne des § 10b EStG noch eine Rechnung.",
    ],
    ("payment_confirmation", "en"): [
        "Payment confirmation",
        "€123.45",
        "one hundred twenty-three euros and forty-five cents",
        "This payment confirmation is neither a donation receipt within the meaning of section 10b",
    ],
    ("donation_receipt", "de"): [
        "Bestätigung über Geldzuwendungen/Mitgliedsbeitrag",
        "im Sinne des § 10b des Einkommensteuergesetzes",
        "123,45 €",
        "einhundertdreiundzwanzig Euro und fünfundvierzig Cent",
        "Es handelt sich um den Verzicht auf Erstattung von Aufwendungen",
        "Es wird bestätigt, dass die Zuwendung nur zur Förderung des Umweltschutzes verwendet wird.",
        "haftet für die entgangene Steuer",
    ],
    ("donation_receipt", "en"): [
        "Bestätigung über Geldzuwendungen/Mitgliedsbeitrag",
        "einhundertdreiundzwanzig Euro und fünfundvierzig Cent",
        "€123.45",
        "one hundred twenty-three euros and forty-five cents",
        "Only the German text is legally",
    ],
    ("cancellation", "de"): [
        "Stornobeleg",
        "Dieser Stornobeleg storniert die Zahlungsbestätigung Nr. KS-2026-000041.",
        "123,45 €",
        "50,00 €",
        "fünfzig Euro",
    ],
    ("cancellation", "en"): [
        "Cancellation document",
        "This document cancels payment confirmation no. KS-2026-000041.",
        "€123.45",
        "€50.00",
        "fifty euros",
    ],
}


def rendered(kind: DocumentKind, language: str) -> tuple[bytes, str]:
    if (kind, language) not in _rendered:
        _rendered[kind, language] = render_receipt_pdf(receipt_data(kind, language), STATIC_DIR)
    return _rendered[kind, language]


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    return " ".join(text.split())  # lines wrap where the layout wants


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_pdf_reads_back_with_number_amount_names_and_legal_sentence(kind, language):
    text = pdf_text(rendered(kind, language)[0])
    for expected in [
        "KS-2026-000042",
        "Jürgen Müller-Lüdenscheidt",
        "Verein für Stadtgrün Kassel e. V.",
        *EXPECTED[kind.value, language],
    ]:
        assert expected in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_pdf_identifies_itself_as_pdf_a_3b(kind, language):
    with pdfplumber.open(io.BytesIO(rendered(kind, language)[0])) as document:
        catalog = document.doc.catalog
        xmp = resolve1(catalog["Metadata"]).get_data().decode()
        intents = resolve1(catalog["OutputIntents"])
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert resolve1(intents[0])["S"].name == "GTS_PDFA1"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_glyph_comes_from_the_shipped_source_sans_3(kind, language):
    with pdfplumber.open(io.BytesIO(rendered(kind, language)[0])) as document:
        fonts = {char["fontname"] for page in document.pages for char in page.chars}
    assert fonts and all("Source-Sans-3" in name for name in fonts)


def test_latin_extended_names_are_set_in_the_shipped_font_too():
    pdf, _ = render_receipt_pdf(receipt_data(backer=Party("Łukasz Żółć-Dvořák", ("ul. Świętokrzyska 1",))), STATIC_DIR)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        fonts = {char["fontname"] for char in document.pages[0].chars}
    assert "Łukasz Żółć-Dvořák" in pdf_text(pdf)
    assert all("Source-Sans-3" in name for name in fonts)


def test_the_german_donation_receipt_fits_on_one_a4_page():
    with pdfplumber.open(io.BytesIO(rendered(DocumentKind.DONATION_RECEIPT, "de")[0])) as document:
        assert len(document.pages) == 1
        page = document.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)


def test_the_english_donation_receipt_adds_the_translation_on_a_second_page():
    with pdfplumber.open(io.BytesIO(rendered(DocumentKind.DONATION_RECEIPT, "en")[0])) as document:
        first, second = (page.extract_text() for page in document.pages)
    assert "Hinweis:" in first and "English translation" not in first
    assert "English translation" in second


def test_the_returned_digest_is_the_sha256_of_the_returned_bytes():
    pdf, digest = rendered(DocumentKind.PAYMENT_CONFIRMATION, "de")
    assert digest == sha256_hex(pdf) and len(digest) == 64


def test_rendering_the_same_data_twice_gives_identical_bytes():
    data = receipt_data(DocumentKind.DONATION_RECEIPT, "en")
    first, _ = render_receipt_pdf(data, STATIC_DIR)
    render_receipt_pdf(receipt_data(DocumentKind.CANCELLATION), STATIC_DIR)
    second, _ = render_receipt_pdf(data, STATIC_DIR)
    assert first == second


def test_a_fresh_process_and_the_plain_weasyprint_call_give_the_same_bytes_too():
    data = receipt_data()
    expected = rendered(DocumentKind.PAYMENT_CONFIRMATION, "de")[1]
    assert sha256_hex(render_pdf(render_html(data), STATIC_DIR, reuse_fonts=False)) == expected
    script = (
        "from receipts.pdf import render_receipt_pdf; from receipts.render import STATIC_DIR;"
        "from tests.receipts.factories import receipt_data;"
        "print(render_receipt_pdf(receipt_data(), STATIC_DIR)[1])"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected


def test_a_receipt_without_its_stylesheet_is_an_error_not_a_plain_page(tmp_path):
    with pytest.raises(FatalURLFetchingError):
        render_receipt_pdf(receipt_data(), tmp_path)


def test_a_receipt_renders_in_well_under_a_second(record_property):
    data = receipt_data()
    render_receipt_pdf(data, STATIC_DIR)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        render_receipt_pdf(data, STATIC_DIR)
        timings.append(time.perf_counter() - start)
    median_ms = statistics.median(timings) * 1000
    record_property("receipt_render_median_ms", round(median_ms, 1))
    print(f"receipt render median {median_ms:.0f} ms")
    assert median_ms < 1000
