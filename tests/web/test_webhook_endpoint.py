"""POST /payments/stripe/webhook: signed raw body or 400, each event once, 503 so that the provider retries;
and localstripe's real deliveries end to end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import WebhookEvent
from crowdfund.models.pledges import Pledge
from crowdfund.services.settlement import settle
from payments import localstripe_admin
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign

URL = "/payments/stripe/webhook"
SECRET = "whsec_endpoint"


@pytest.fixture
def fake(app) -> FakeGateway:
    gateway = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = gateway
    app.config["STRIPE_WEBHOOK_SECRET"] = SECRET
    return gateway


@pytest.fixture
def processing_pledge(app, session, fake) -> Pledge:
    """A SEPA pledge charged at settlement and now collected at the provider (the event is in fake.events)."""
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 4_200, fake, method="pm_sepa_debit")
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    fake.finish_processing(session.get(Pledge, pledge.id).payment_intent_id)
    return pledge


def succeeded_event(fake: FakeGateway) -> dict:
    return [e for e in fake.events if e["type"] == "payment_intent.succeeded"][-1]


def post(client, body: bytes, header: str | None):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post(URL, data=body, headers=headers)


def counts(session, pledge_id: int) -> tuple[str, int, int]:
    session.expire_all()
    return (session.get(Pledge, pledge_id).status,
            session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.pledge_id == pledge_id)),
            session.scalar(select(func.count(WebhookEvent.id))))


@pytest.mark.parametrize("tamper", ["body", "secret", "missing", "stale"])
def test_an_unverifiable_delivery_gets_400_and_changes_nothing(client, session, fake, processing_pledge, tamper):
    body, header = fake.signed_event(succeeded_event(fake), SECRET)
    if tamper == "body":
        body = body.replace(b'"amount": 4200', b'"amount": 1')
    elif tamper == "secret":
        header = fake.sign_webhook(body, "whsec_someone_else")
    elif tamper == "stale":
        header = fake.sign_webhook(body, SECRET, timestamp=int(time.time()) - 3600)

    response = post(client, body, None if tamper == "missing" else header)

    assert response.status_code == 400 and response.json == {"error": "invalid signature"}
    assert counts(session, processing_pledge.id) == ("processing", 0, 0)


def test_a_signed_event_is_applied_once_and_a_repeat_is_acknowledged(client, session, fake, processing_pledge):
    body, header = fake.signed_event(succeeded_event(fake), SECRET)

    first, second = post(client, body, header), post(client, body, header)

    assert (first.status_code, first.json["status"]) == (200, "applied")
    assert (second.status_code, second.json["status"]) == (200, "duplicate")
    assert counts(session, processing_pledge.id) == ("paid", 1, 1)


def test_the_endpoint_needs_no_csrf_token_but_nothing_else_goes_without_one(app, client, fake):
    app.config["WTF_CSRF_ENABLED"] = True
    body, header = fake.signed_event({"id": "evt_x", "object": "event", "type": "customer.created",
                                      "data": {"object": {"id": "cus_x", "object": "customer"}}}, SECRET)
    assert post(client, body, header).status_code == 200


def test_when_the_provider_cannot_be_reached_the_answer_is_503_and_the_retry_applies_it(client, session, fake,
                                                                                       processing_pledge):
    body, header = fake.signed_event(succeeded_event(fake), SECRET)
    fake.fail_next(1, method="retrieve_payment_intent")

    assert post(client, body, header).status_code == 503
    assert counts(session, processing_pledge.id) == ("processing", 0, 0)
    assert post(client, body, header).json["status"] == "applied"
    assert counts(session, processing_pledge.id) == ("paid", 1, 1)


def test_without_a_configured_provider_the_endpoint_answers_503(app, client):
    app.extensions["payment_gateway"] = None
    assert client.post(URL, data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}).status_code == 503


# --- localstripe's own deliveries ------------------------------------------------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def delivered_to_us(app, live_server, localstripe, stripe_gateway) -> Iterator[None]:
    app.extensions["payment_gateway"] = stripe_gateway
    app.config["STRIPE_WEBHOOK_SECRET"] = "whsec_e2e"
    localstripe_admin.register_webhook(localstripe, "payments-e2e", live_server + URL, "whsec_e2e")
    yield
    localstripe_admin.disable_webhook(localstripe, "payments-e2e")


def wait_for(check, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "no webhook arrived in time"
        time.sleep(0.1)


def test_localstripe_delivers_real_events_that_settle_sepa_debits_either_way(app, session, localstripe,
                                                                            stripe_gateway, delivered_to_us):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    good = make_active_pledge(session, project, make_backer(session), 3_000, stripe_gateway,
                              localstripe_url=localstripe, iban="DE89370400440532013000")
    bad = make_active_pledge(session, project, make_backer(session), 2_000, stripe_gateway,
                             localstripe_url=localstripe, iban="DE62370400440532013001")
    card = make_active_pledge(session, project, make_backer(session), 1_000, stripe_gateway,
                              localstripe_url=localstripe)
    notices: list = []
    started = time.monotonic()

    settle(app.extensions["db_sessionmaker"], stripe_gateway, now=datetime.now(UTC), fix_window_days=7,
           notify=notices.append)

    assert counts(session, card.id)[0] == "paid"
    assert counts(session, good.id)[0] in ("processing", "paid")  # the webhook may already have come
    wait_for(lambda: counts(session, good.id)[0] == "paid" and counts(session, bad.id)[0] == "action_required")
    elapsed = time.monotonic() - started

    def types() -> list[str]:
        session.expire_all()
        return list(session.scalars(select(WebhookEvent.type)))

    wait_for(lambda: types().count("payment_intent.succeeded") == 2)  # the card's event too (a no-op)
    assert "payment_intent.payment_failed" in types()
    assert session.get(Pledge, good.id).paid_cents == 3_000
    charge_total = session.scalar(select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "charge"))
    assert charge_total == 4_000
    print(f"localstripe webhooks settled both SEPA debits {elapsed:.1f} s after the settlement started")


def test_a_card_payment_event_from_localstripe_for_a_paid_pledge_changes_nothing(app, session, localstripe,
                                                                                 stripe_gateway, delivered_to_us):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 1_500, stripe_gateway,
                                localstripe_url=localstripe)
    settle(app.extensions["db_sessionmaker"], stripe_gateway, now=datetime.now(UTC), fix_window_days=7,
           notify=lambda n: None)

    session.expire_all()
    pi_id = session.get(Pledge, pledge.id).payment_intent_id

    def outcome() -> str | None:
        session.expire_all()
        return session.scalars(select(WebhookEvent.outcome).where(WebhookEvent.object_id == pi_id)).first()

    wait_for(lambda: outcome() is not None)
    assert outcome() == f"{pi_id} succeeded: pledge {pledge.id} paid -> paid"
    assert counts(session, pledge.id)[:2] == ("paid", 1)
