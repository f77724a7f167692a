"""The fixed texts of the payment confirmation and the cancellation document, German and English.

The donation receipt's official wording lives in its template (templates/receipts/donation_receipt.html)
because it must not be rephrased. Placeholders in braces are filled by `render.py`.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "de": {
        "number": "Beleg-Nr.",
        "issue_date": "Ausstellungsdatum",
        "payment_date": "Zahlungsdatum",
        "refund_date": "Erstattungsdatum",
        "issuer": "Aussteller",
        "payer": "Zahlende Person",
        "amount": "Betrag",
        "amount_in_words": "Betrag in Worten",
        "original_amount": "Betrag des stornierten Belegs",
        "refunded_amount": "Erstatteter Betrag",
        "refunded_in_words": "Erstatteter Betrag in Worten",
        "cancelled_document": "Stornierter Beleg",
        "project": "Projekt",
        "payment_method": "Zahlungsart",
        "provider_reference": "Referenz des Zahlungsdienstleisters",
        "refund_reference": "Referenz der Erstattung",
        "page": "Seite",
        "payment_confirmation": "Zahlungsbestätigung",
        "donation_receipt": "Zuwendungsbestätigung",
        "cancellation": "Stornobeleg",
        "payment_intro": "Hiermit bestätigen wir den Empfang der folgenden Zahlung (Quittung nach § 368 BGB).",
        "payment_legal": (
            "Diese Zahlungsbestätigung ist weder eine Zuwendungsbestätigung im Sinne des § 10b EStG noch eine Rechnung."
        ),
        "cancellation_intro": "Dieser Stornobeleg storniert die {kind} Nr. {number}.",
        "cancellation_legal": (
            "Der stornierte Beleg bleibt unverändert erhalten; dieser Stornobeleg berichtigt ihn in Höhe des "
            "erstatteten Betrags."
        ),
        "cancellation_donation": (
            "Die Zuwendungsbestätigung Nr. {number} ist in Höhe des erstatteten Betrags ungültig und darf insoweit "
            "nicht für steuerliche Zwecke verwendet werden."
        ),
    },
    "en": {
        "number": "Document no.",
        "issue_date": "Date of issue",
        "payment_date": "Payment date",
        "refund_date": "Refund date",
        "issuer": "Issuer",
        "payer": "Paid by",
        "amount": "Amount",
        "amount_in_words": "Amount in words",
        "original_amount": "Amount of the cancelled document",
        "refunded_amount": "Amount refunded",
        "refunded_in_words": "Amount refunded in words",
        "cancelled_document": "Cancelled document",
        "project": "Project",
        "payment_method": "Payment method",
        "provider_reference": "Payment provider reference",
        "refund_reference": "Refund reference",
        "page": "Page",
        "payment_confirmation": "Payment confirmation",
        "donation_receipt": "Donation receipt",
        "cancellation": "Cancellation document",
        "payment_intro": (
            "We hereby confirm receipt of the following payment (a receipt under section 368 of the German Civil "
            "Code, BGB)."
        ),
        "payment_legal": (
            "This payment confirmation is neither a donation receipt within the meaning of section 10b of the "
            "German Income Tax Act (EStG) nor an invoice."
        ),
        "cancellation_intro": "This document cancels {kind} no. {number}.",
        "cancellation_legal": (
            "The cancelled document is kept unchanged; this cancellation document corrects it by the amount refunded."
        ),
        "cancellation_donation": (
            "Donation receipt no. {number} is void to the extent of the amount refunded and must not be used for "
            "tax purposes to that extent."
        ),
    },
}

# How the intro sentence names the cancelled document ("storniert die Zahlungsbestätigung Nr. ...").
CANCELLED_KIND_NAMES = {
    "de": {"payment_confirmation": "Zahlungsbestätigung", "donation_receipt": "Zuwendungsbestätigung"},
    "en": {"payment_confirmation": "payment confirmation", "donation_receipt": "donation receipt"},
}

PAYMENT_METHODS = {
    "card": {"de": "Kartenzahlung", "en": "Card payment"},
    "sepa_debit": {"de": "SEPA-Lastschrift", "en": "SEPA direct debit"},
    "bank_transfer": {"de": "Überweisung", "en": "Bank transfer"},
}

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
