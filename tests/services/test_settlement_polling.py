"""SEPA debits wait in `processing` after the charge; localstripe sends no event when they end (and a webhook
can be missed on real Stripe): `settle` asks the provider about them and moves them on, with audit rows and
ledger lines, never creating another PaymentIntent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services.charges import Notice
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def notices() -> list[Notice]:
    return []


@pytest.fixture
def run(app, fake, notices):
    def run_settle(**options):
        return settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7,
                      notify=notices.append, **options)

    return run_settle


def pledges_with(session, fake, methods):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    return [make_active_pledge(session, project, make_backer(session), 3_000, fake, method=m) for m in methods]


def current(session, pledges) -> list[Pledge]:
    session.expire_all()
    return [session.get(Pledge, p.id) for p in pledges]


def trail(session, pledge) -> list[tuple[str, str, str]]:
    return [(a.action, a.from_state, a.to_state) for a in session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "pledge", AuditEntry.entity_id == pledge.id).order_by(AuditEntry.id))]


def test_debits_that_ended_without_an_event_are_polled_and_moved_on(session, fake, run, notices):
    ok, bounced, waiting, card = pledges_with(session, fake, ["pm_sepa_debit", "pm_sepa_debit_fails",
                                                             "pm_sepa_debit", "pm_card_visa"])
    first = run()
    assert (first.processing, first.charged) == (3, 1)
    assert [p.status for p in current(session, [ok, bounced, waiting, card])] == [
        "processing", "processing", "processing", "paid"]
    before = len(notices)
    for pledge in (ok, bounced):  # the bank decided; no webhook reaches us
        fake.finish_processing(current(session, [pledge])[0].payment_intent_id)

    report = run()

    ok_now, bounced_now, waiting_now = current(session, [ok, bounced, waiting])
    assert (ok_now.status, bounced_now.status, waiting_now.status) == ("paid", "action_required", "processing")
    assert (report.polled, report.charged, report.action_required) == (3, 1, 1)
    assert ok_now.paid_cents == 3_000 and ok_now.paid_at is not None
    assert trail(session, ok_now)[-1] == ("mark_paid", "processing", "paid")
    assert trail(session, bounced_now)[-1] == ("require_action", "processing", "action_required")
    charges = {e.pledge_id: (e.amount_cents, e.provider_ref) for e in session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "charge"))}
    assert charges == {ok.id: (3_000, ok_now.payment_intent_id), card.id: (3_000, current(session, [card])[0]
                                                                            .payment_intent_id)}
    # the funded mail went out when the debit started; now only the bounced one needs its backer
    assert [(n.kind, n.pledge_id) for n in notices[before:]] == [("action_required", bounced.id)]
    assert [fake.payment_intents_created[str(p.id)] for p in (ok, bounced, waiting, card)] == [1, 1, 1, 1]

    again = run()  # nothing new: the paid line is not booked twice, the waiting one is asked again
    assert (again.polled, again.charged) == (1, 0)
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "charge")).all()) == 2


def test_a_debit_a_webhook_already_settled_is_left_alone(session, fake, run):
    (pledge,) = pledges_with(session, fake, ["pm_sepa_debit"])
    run()
    fake.finish_processing(current(session, [pledge])[0].payment_intent_id)
    session.execute(Pledge.__table__.update().where(Pledge.id == pledge.id).values(status="paid"))
    session.commit()

    report = run()

    assert report.polled == 0 and report.charged == 0  # only pledges still `processing` are asked about
