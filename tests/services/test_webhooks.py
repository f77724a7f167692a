"""Webhooks: each event applied once, in any order, from the provider's re-fetched PaymentIntent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import PaymentAttempt, WebhookEvent
from crowdfund.models.pledges import Pledge
from crowdfund.services.settlement import settle
from crowdfund.services.webhooks import receive_event
from payments.fake import FakeGateway
from payments.gateway import InvalidSignature, ProviderUnavailable
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign

SECRET = "whsec_test"


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def settled(app, session, fake):
    """Settle a funded campaign with one pledge paid by `method`; return (pledge id, notices)."""

    def make(method: str) -> tuple[int, list]:
        project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
        pledge = make_active_pledge(session, project, make_backer(session), 2_500, fake, method=method)
        notices: list = []
        settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7,
               notify=notices.append)
        return pledge.id, notices

    return make


@pytest.fixture
def deliver(app, fake):
    """Deliver one event as the provider would (signed), in its own transaction; return the result."""

    def send(event: dict, gateway: object = None):
        body, header = fake.signed_event(event, SECRET)
        with app.extensions["db_sessionmaker"]() as db, db.begin():
            return receive_event(db, gateway or fake, body, header, SECRET)

    return send


def last_event(fake: FakeGateway, type_: str) -> dict:
    return [e for e in fake.events if e["type"] == type_][-1]


def pi_of(session, pledge_id: int) -> str:
    session.expire_all()
    return session.get(Pledge, pledge_id).payment_intent_id


def pledge_state(session, pledge_id: int) -> tuple[str, int]:
    session.expire_all()
    pledge = session.get(Pledge, pledge_id)
    lines = session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.pledge_id == pledge_id))
    return pledge.status, lines


def test_a_sepa_debit_is_paid_when_the_webhook_brings_the_providers_word(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_sepa_debit")
    assert pledge_state(session, pledge_id) == ("processing", 0)
    fake.finish_processing(pi_of(session, pledge_id))

    result = deliver(last_event(fake, "payment_intent.succeeded"))

    assert result.status == "applied" and "processing -> paid" in result.outcome
    assert pledge_state(session, pledge_id) == ("paid", 1)
    assert session.get(Pledge, pledge_id).paid_cents == 2_500


def test_a_sepa_debit_failing_days_later_needs_the_backer_who_is_mailed(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_sepa_debit_fails")
    fake.finish_processing(pi_of(session, pledge_id))

    result = deliver(last_event(fake, "payment_intent.payment_failed"))

    assert pledge_state(session, pledge_id) == ("action_required", 0)
    assert [(n.kind, n.pledge_id) for n in result.notices] == [("action_required", pledge_id)]


def test_a_repeated_delivery_is_acknowledged_and_changes_nothing(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_sepa_debit")
    fake.finish_processing(pi_of(session, pledge_id))
    event = last_event(fake, "payment_intent.succeeded")

    first, second = deliver(event), deliver(event)

    assert (first.status, second.status) == ("applied", "duplicate")
    assert pledge_state(session, pledge_id) == ("paid", 1)
    assert session.scalar(select(func.count(WebhookEvent.id))) == 1


@pytest.mark.parametrize("order", [("succeeded", "failed"), ("failed", "succeeded")])
def test_events_in_any_order_leave_a_completed_payment_paid(session, fake, settled, deliver, order):
    pledge_id, _ = settled("pm_card_authenticationRequired")  # off-session: payment_failed, then the backer
    fake.complete_authentication(pi_of(session, pledge_id))  # ... authenticates
    events = {"failed": last_event(fake, "payment_intent.payment_failed"),
              "succeeded": last_event(fake, "payment_intent.succeeded")}

    for name in order:
        assert deliver(events[name]).status == "applied"

    assert pledge_state(session, pledge_id) == ("paid", 1)


def test_a_success_for_an_already_paid_pledge_is_a_no_op(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_card_visa")
    result = deliver(last_event(fake, "payment_intent.succeeded"))
    assert "paid -> paid" in result.outcome and pledge_state(session, pledge_id) == ("paid", 1)


def test_the_payload_is_not_trusted_the_payment_intent_is_fetched_again(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_sepa_debit")
    forged = json.loads(json.dumps(last_event(fake, "payment_intent.processing")))
    forged.update(id="evt_forged", type="payment_intent.succeeded")
    forged["data"]["object"]["status"] = "succeeded"

    deliver(forged)

    assert pledge_state(session, pledge_id) == ("processing", 0)  # the provider still says processing


def test_a_success_arriving_before_settlement_recorded_it_is_adopted_and_the_rerun_charges_nothing(
        app, session, fake, deliver):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 2_500, fake)

    class DiesAfterCharging:
        def __getattr__(self, name):
            return getattr(fake, name)

        def charge_off_session(self, **kwargs):
            fake.charge_off_session(**kwargs)
            raise SystemExit("killed before the outcome was committed")

    factory = app.extensions["db_sessionmaker"]
    with pytest.raises(SystemExit):
        settle(factory, DiesAfterCharging(), now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    assert pledge_state(session, pledge.id) == ("charging", 0)

    deliver(last_event(fake, "payment_intent.succeeded"))
    assert pledge_state(session, pledge.id) == ("paid", 1)
    report = settle(factory, fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)

    assert report.recovered == 0 and fake.payment_intents_created[str(pledge.id)] == 1
    assert session.scalars(select(PaymentAttempt.status)).one() == "succeeded"


def test_events_about_other_objects_are_stored_and_ignored(session, fake, deliver):
    result = deliver({"id": "evt_customer", "object": "event", "type": "customer.created",
                      "data": {"object": {"id": "cus_1", "object": "customer"}}})
    foreign = fake.create_customer(email="x@example.org", name="X", idempotency_key="c")
    pi = fake.charge_off_session(customer_id=foreign.id, payment_method_id="pm_card_visa", amount_cents=100,
                                 currency="eur", metadata={"order": "7"}, idempotency_key="k")
    other = deliver({"id": "evt_foreign", "object": "event", "type": "payment_intent.succeeded",
                     "data": {"object": {"id": pi.id, "object": "payment_intent"}}})

    assert (result.status, other.status) == ("ignored", "ignored")
    session.expire_all()
    assert session.scalars(select(WebhookEvent.outcome).order_by(WebhookEvent.id)).all() == [
        "customer.created is not acted on", f"{pi.id} belongs to no pledge of ours"]


def test_a_bad_signature_is_refused_before_anything_is_stored(app, session, fake):
    body, header = fake.signed_event({"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}, "whsec_other")
    with app.extensions["db_sessionmaker"]() as db, pytest.raises(InvalidSignature):
        receive_event(db, fake, body, header, SECRET)
    assert session.scalar(select(func.count(WebhookEvent.id))) == 0


def test_when_the_refetch_fails_the_event_is_not_stored_so_the_retry_applies_it(session, fake, settled, deliver):
    pledge_id, _ = settled("pm_sepa_debit")
    fake.finish_processing(pi_of(session, pledge_id))
    event = last_event(fake, "payment_intent.succeeded")
    fake.fail_next(1, method="retrieve_payment_intent")

    with pytest.raises(ProviderUnavailable):
        deliver(event)
    assert session.scalar(select(func.count(WebhookEvent.id))) == 0

    assert deliver(event).status == "applied" and pledge_state(session, pledge_id) == ("paid", 1)
