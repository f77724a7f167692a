"""Render a ReceiptData to the HTML that `receipts.pdf` turns into a PDF.

The templates live in templates/receipts/ of the repository and refer to the stylesheet and fonts by URLs
relative to the static directory, which is the base URL of the PDF rendering.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from receipts.documents import DocumentKind, ReceiptData
from receipts.texts import CANCELLED_KIND_NAMES, LABELS, MONTHS_EN, PAYMENT_METHODS
from receipts.words import amount_in_words

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / "templates" / "receipts"
STATIC_DIR = ROOT / "static"
CURRENCY_SYMBOLS = {"EUR": "€"}


def format_money(cents: int, currency: str = "EUR", language: str = "de") -> str:
    """Format integer cents with grouping, without float: "1.234,56 €" (de), "€1,234.56" (en)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, not {type(cents).__name__}")
    symbol = CURRENCY_SYMBOLS[currency]
    sign = "-" if cents < 0 else ""
    units, subunits = divmod(abs(cents), 100)
    grouped = f"{units:,d}"
    if language == "de":
        return f"{sign}{grouped.replace(',', '.')},{subunits:02d} {symbol}"
    return f"{sign}{symbol}{grouped}.{subunits:02d}"


def format_date(day: date, language: str = "de") -> str:
    """Format a calendar date: "01.03.2026" (de), "1 March 2026" (en)."""
    if language == "de":
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def payment_method_label(method: str, language: str = "de") -> str:
    """Name a payment method code ("card", "sepa_debit") in the language; unknown codes are shown as they are."""
    return PAYMENT_METHODS.get(method, {}).get(language, method)


@cache
def environment() -> Environment:
    """Build the receipts' own Jinja2 environment (autoescaping, strict undefined variables)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    return env


def _context(data: ReceiptData) -> dict[str, object]:
    lang = data.language
    labels = LABELS[lang]
    context: dict[str, object] = {
        "data": data,
        "lang": lang,
        "t": labels,
        "title": labels[data.kind.value],
        "amount": format_money(data.amount_cents, data.currency, lang),
        "amount_words": amount_in_words(data.amount_cents, data.currency, lang),
        "issue_date": format_date(data.issue_date, lang),
        "payment_date": format_date(data.payment_date, lang),
        "payment_method": payment_method_label(data.payment_method, lang),
    }
    if data.kind is DocumentKind.DONATION_RECEIPT:
        # The official form is German whatever the language; the English text is an extra translation page.
        context["amount_de"] = format_money(data.amount_cents, data.currency, "de")
        context["amount_words_de"] = amount_in_words(data.amount_cents, data.currency, "de")
    if data.cancellation is not None:
        cancelled = data.cancellation
        context["refunded"] = format_money(cancelled.refunded_amount_cents, data.currency, lang)
        context["refunded_words"] = amount_in_words(cancelled.refunded_amount_cents, data.currency, lang)
        kind_name = CANCELLED_KIND_NAMES[lang][cancelled.cancelled_kind.value]
        context["intro"] = labels["cancellation_intro"].format(kind=kind_name, number=cancelled.cancelled_number)
        context["donation_note"] = labels["cancellation_donation"].format(number=cancelled.cancelled_number)
    return context


def render_html(data: ReceiptData) -> str:
    """Render one document to HTML: its kind picks the template, its language the texts."""
    template = environment().get_template(f"{data.kind.value}.html")
    return template.render(_context(data))
