"""Receipt HTML: texts per kind and language, amounts formatted from integer cents, escaping."""

from dataclasses import replace
from datetime import date

import pytest

from receipts.documents import CancellationDetails, DocumentKind, NoticeKind, Party
from receipts.render import TEMPLATE_DIR, format_date, format_money, payment_method_label, render_html
from tests.receipts.factories import donation_details, receipt_data

LEGAL_DE = "Diese Zahlungsbestätigung ist weder eine Zuwendungsbestätigung im Sinne des § 10b EStG noch eine Rechnung."
BMF_TITLE = (
    "im Sinne des § 10b des Einkommensteuergesetzes an eine der in § 5 Abs. 1 Nr. 9 des Körperschaftsteuergesetzes "
    "bezeichneten Körperschaften, Personenvereinigungen oder Vermögensmassen"
)


@pytest.mark.parametrize(
    ("cents", "de", "en"),
    [
        (0, "0,00 €", "€0.00"),
        (5, "0,05 €", "€0.05"),
        (12345, "123,45 €", "€123.45"),
        (123456, "1.234,56 €", "€1,234.56"),
        (100000000, "1.000.000,00 €", "€1,000,000.00"),
        (-12345, "-123,45 €", "-€123.45"),
    ],
)
def test_money_is_formatted_from_integer_cents_in_each_language(cents, de, en):
    assert format_money(cents, "EUR", "de") == de
    assert format_money(cents, "EUR", "en") == en


def test_money_formatting_refuses_floats():
    with pytest.raises(TypeError):
        format_money(123.45)  # type: ignore[arg-type]


def test_dates_are_written_the_german_and_the_english_way():
    assert format_date(date(2026, 3, 1), "de") == "01.03.2026"
    assert format_date(date(2026, 3, 1), "en") == "1 March 2026"


def test_payment_methods_are_named_and_unknown_codes_shown_as_they_are():
    assert payment_method_label("sepa_debit", "de") == "SEPA-Lastschrift"
    assert payment_method_label("card", "en") == "Card payment"
    assert payment_method_label("giropay", "de") == "giropay"


def test_templates_are_found_relative_to_the_repository():
    assert (TEMPLATE_DIR / "payment_confirmation.html").is_file()


def test_the_payment_confirmation_says_it_is_neither_a_donation_receipt_nor_an_invoice():
    html = render_html(receipt_data())
    assert "<h1>Zahlungsbestätigung</h1>" in html
    assert LEGAL_DE in html
    assert "123,45 €" in html
    assert "einhundertdreiundzwanzig Euro und fünfundvierzig Cent" in html
    assert "Kartenzahlung" in html


def test_the_english_payment_confirmation_uses_english_texts():
    html = render_html(receipt_data(language="en"))
    assert '<html lang="en">' in html
    assert "neither a donation receipt within the meaning of section 10b" in html
    assert "€123.45" in html
    assert "one hundred twenty-three euros and forty-five cents" in html


def test_backer_input_is_escaped():
    html = render_html(receipt_data(backer=Party("<script>alert(1)</script> & Co", ("<b>x</b>",))))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_donation_receipt_keeps_the_official_german_form_in_every_language(language):
    html = render_html(receipt_data(DocumentKind.DONATION_RECEIPT, language))
    assert "Bestätigung über" in html and BMF_TITLE in html
    assert "einhundertdreiundzwanzig Euro und fünfundvierzig Cent" in html
    assert "Es handelt sich um den Verzicht auf Erstattung von Aufwendungen" in html
    assert "des Finanzamtes Kassel-Hofgeismar StNr. 026 250 12345 vom 14.02.2025" in html
    assert "haftet für die entgangene Steuer (§ 10b Abs. 4 EStG, § 9 Abs. 3 KStG, § 9 Nr. 5 GewStG)" in html
    assert "(§ 63 Abs. 5 AO)" in html
    assert ("English translation" in html) is (language == "en")


def test_the_donation_receipt_prints_the_section_60a_passage_for_such_a_notice():
    details = donation_details(notice_kind=NoticeKind.ASSESSMENT_60A, statutory_purpose="den Umweltschutz")
    html = render_html(receipt_data(DocumentKind.DONATION_RECEIPT, donation=details))
    assert "nach § 60a AO gesondert festgestellt. Wir fördern nach unserer Satzung den Umweltschutz." in html
    assert "Freistellungsbescheid bzw." not in html


def test_the_cancellation_names_the_cancelled_document_and_the_refund():
    html = render_html(receipt_data(DocumentKind.CANCELLATION))
    assert "Dieser Stornobeleg storniert die Zahlungsbestätigung Nr. KS-2026-000041." in html
    assert "50,00 €" in html and "fünfzig Euro" in html
    assert "Zuwendungsbestätigung Nr." not in html


def test_cancelling_a_donation_receipt_says_it_is_void_to_that_extent():
    details = CancellationDetails("KS-2026-000041", 12345, DocumentKind.DONATION_RECEIPT)
    html = render_html(receipt_data(DocumentKind.CANCELLATION, "en", cancellation=details))
    assert "This document cancels donation receipt no. KS-2026-000041." in html
    assert "Donation receipt no. KS-2026-000041 is void to the extent of the amount refunded" in html


def test_rendering_is_a_pure_function_of_the_data():
    data = receipt_data(DocumentKind.DONATION_RECEIPT, "en")
    assert render_html(data) == render_html(replace(data))
