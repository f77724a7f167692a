"""Receipt data and the choice of document for a paid pledge."""

from dataclasses import FrozenInstanceError

import pytest

from receipts.documents import CancellationDetails, DocumentKind, payment_document_kind
from tests.receipts.factories import donation_details, receipt_data


@pytest.mark.parametrize(
    ("tax_privileged", "has_reward", "kind"),
    [
        (True, False, DocumentKind.DONATION_RECEIPT),
        (True, True, DocumentKind.PAYMENT_CONFIRMATION),
        (False, False, DocumentKind.PAYMENT_CONFIRMATION),
        (False, True, DocumentKind.PAYMENT_CONFIRMATION),
    ],
)
def test_only_a_pledge_without_reward_to_a_tax_privileged_recipient_gets_a_donation_receipt(
    tax_privileged, has_reward, kind
):
    assert payment_document_kind(recipient_tax_privileged=tax_privileged, pledge_has_reward=has_reward) is kind


def test_receipt_data_is_frozen():
    data = receipt_data()
    with pytest.raises(FrozenInstanceError):
        data.amount_cents = 1  # type: ignore[misc]


def test_the_kind_may_be_given_as_its_string_value():
    assert receipt_data(kind="payment_confirmation").kind is DocumentKind.PAYMENT_CONFIRMATION  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [12.34, "1234", True])
def test_amounts_must_be_integer_cents(amount):
    with pytest.raises(TypeError):
        receipt_data(amount_cents=amount)


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount_cents": -1},
        {"number": "KS-2026-42"},
        {"language": "fr"},
        {"currency": "USD"},
        {"kind": "invoice"},
    ],
)
def test_invalid_receipt_data_is_refused(overrides):
    with pytest.raises(ValueError):
        receipt_data(**overrides)


def test_a_donation_receipt_needs_the_recipients_tax_details():
    with pytest.raises(ValueError):
        receipt_data(DocumentKind.DONATION_RECEIPT, donation=None)


def test_a_payment_confirmation_carries_no_donation_details():
    with pytest.raises(ValueError):
        receipt_data(DocumentKind.PAYMENT_CONFIRMATION, donation=donation_details())


def test_a_cancellation_needs_the_cancelled_number():
    with pytest.raises(ValueError):
        receipt_data(DocumentKind.CANCELLATION, cancellation=None)


@pytest.mark.parametrize(
    "details",
    [
        CancellationDetails(cancelled_number="nope", refunded_amount_cents=100),
        CancellationDetails(cancelled_number="KS-2026-000041", refunded_amount_cents=12346),
        CancellationDetails(cancelled_number="KS-2026-000041", refunded_amount_cents=-1),
    ],
)
def test_a_cancellation_refunds_at_most_the_cancelled_amount_of_a_valid_document(details):
    with pytest.raises(ValueError):
        receipt_data(DocumentKind.CANCELLATION, cancellation=details)
