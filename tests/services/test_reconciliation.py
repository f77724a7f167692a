"""Reconciliation lists every difference between the ledger and the provider's records for a period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from crowdfund.models.ledger import LedgerEntry
from crowdfund.services.finance import Period
from crowdfund.services.reconciliation import reconcile
from payments.fake import FakeGateway
from tests.finance_factories import make_paid_project, refund


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def paid(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000, 2_500])
    refund(session, fake, paid.pledges[0], 1_000)
    return paid


def around_today() -> Period:
    today = datetime.now(UTC).date()
    return Period(today - timedelta(days=1), today + timedelta(days=1))


def kinds(result) -> list[str]:
    return sorted(d.kind for d in result.differences)


def test_a_ledger_that_matches_the_provider_has_no_differences(session, fake, paid):
    result = reconcile(session, fake, around_today())

    assert result.clean
    assert (result.checked_lines, result.checked_pledges) == (3, 2)


def test_a_changed_ledger_amount_is_an_amount_mismatch(session, fake, paid):
    pi_id = paid.pledges[1].payment_intent_id
    session.execute(update(LedgerEntry).where(LedgerEntry.provider_ref == pi_id).values(amount_cents=2_400))
    session.commit()

    result = reconcile(session, fake, around_today())

    assert kinds(result) == ["amount_mismatch"]
    difference = result.differences[0]
    assert (difference.object_id, difference.ledger_cents, difference.provider_cents) == (pi_id, 2_400, 2_500)


def test_a_changed_refund_amount_is_found_too(session, fake, paid):
    session.execute(update(LedgerEntry).where(LedgerEntry.kind == "refund").values(amount_cents=-900))
    session.commit()

    result = reconcile(session, fake, around_today())

    assert kinds(result) == ["amount_mismatch"] and result.differences[0].object_id.startswith("re_")


def test_a_payment_intent_that_collected_money_without_a_ledger_line_is_missing_locally(session, fake, paid):
    pledge = paid.pledges[1]
    other = fake.charge_off_session(customer_id=pledge.customer_id, payment_method_id="pm_card_visa",
                                    amount_cents=2_500, currency="eur", metadata={"pledge_id": str(pledge.id)},
                                    idempotency_key="made-at-the-dashboard")

    result = reconcile(session, fake, around_today())

    assert kinds(result) == ["missing_locally"]
    assert (result.differences[0].object_id, result.differences[0].pledge_id) == (other.id, pledge.id)


def test_a_ledger_line_the_provider_does_not_know_is_missing_at_the_provider(session, fake, paid):
    pi_id = paid.pledges[0].payment_intent_id
    del fake.payment_intents[pi_id]

    result = reconcile(session, fake, around_today())

    assert "missing_at_provider" in kinds(result)
    assert any(d.object_id == pi_id for d in result.differences if d.kind == "missing_at_provider")


def test_a_charge_the_provider_reports_as_not_succeeded_is_a_status_mismatch(session, fake, paid):
    pi_id = paid.pledges[1].payment_intent_id
    fake.payment_intents[pi_id] = replace(fake.payment_intents[pi_id], status="canceled")

    result = reconcile(session, fake, around_today())

    assert kinds(result) == ["status_mismatch"]


def test_an_unreachable_provider_leaves_items_unchecked_not_matched(session, fake, paid):
    fake.fail_next(100)

    result = reconcile(session, fake, around_today())

    assert set(kinds(result)) == {"unchecked"}


def test_lines_outside_the_period_are_not_compared(session, fake, paid):
    result = reconcile(session, fake, Period(date(2001, 1, 1), date(2001, 1, 31)))

    assert result.clean and result.checked_lines == 0
    assert session.scalars(select(LedgerEntry)).first() is not None
