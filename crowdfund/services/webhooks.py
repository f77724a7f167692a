"""Provider webhooks, the provider's word on PaymentIntents: verified over the raw body, stored once per event
id (a unique constraint; a repeated delivery changes nothing), applied under the pledge's row lock from the
PaymentIntent as re-fetched from the provider, never from the payload. Any order is harmless because
`apply_outcome` only moves a pledge forward (a late failure after a success is ignored).

localstripe sends `payment_intent.succeeded` and `payment_intent.payment_failed` (not `processing`,
`setup_intent.*` or refund events): setup intents and refunds are re-fetched where they are used."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.models.payments import WebhookEvent
from crowdfund.models.pledges import Pledge
from crowdfund.services import charges
from crowdfund.services.charges import ChargeResult, Notice
from payments.gateway import InvalidRequest, PaymentGateway
from payments.gateway import WebhookEvent as ProviderEvent

PAYMENT_INTENT_EVENTS = frozenset({
    "payment_intent.succeeded", "payment_intent.processing", "payment_intent.payment_failed",
    "payment_intent.requires_action", "payment_intent.canceled",
})


@dataclass
class WebhookResult:
    status: str  # applied | duplicate | ignored
    outcome: str = ""
    notices: list[Notice] = field(default_factory=list)


def receive_event(session: Session, gateway: PaymentGateway, payload: bytes, signature: str,
                  secret: str) -> WebhookResult:
    """Verify, de-duplicate and apply one delivery; the caller commits (and rolls back on an exception).

    Raises InvalidSignature (nothing stored) and ProviderUnavailable (the re-fetch failed: roll back so that
    the provider's retry finds the event new)."""
    event = gateway.parse_webhook(payload, signature, secret)
    row = _store_once(session, event)
    if row is None:
        return WebhookResult("duplicate", "already received")
    result = _apply(session, gateway, event)
    row.processed_at, row.outcome = utcnow(), result.outcome
    session.flush()
    return result


def _store_once(session: Session, event: ProviderEvent) -> WebhookEvent | None:
    """Insert the event's row, or return None if its id is already there (also when another delivery of
    the same event is being stored right now: the insert waits for it and then does nothing)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(WebhookEvent).values(provider="stripe", event_id=event.id, type=event.type[:80],
                                       object_id=event.object_id, received_at=utcnow(), outcome="")
    new_id = session.scalar(stmt.on_conflict_do_nothing(index_elements=["event_id"]).returning(WebhookEvent.id))
    return session.get(WebhookEvent, new_id) if new_id is not None else None


def _apply(session: Session, gateway: PaymentGateway, event: ProviderEvent) -> WebhookResult:
    if event.type not in PAYMENT_INTENT_EVENTS or not event.object_id:
        return WebhookResult("ignored", f"{event.type} is not acted on")
    try:
        info = gateway.retrieve_payment_intent(event.object_id)  # the provider's current word, not the payload's
    except InvalidRequest:
        return WebhookResult("ignored", f"{event.object_id} is unknown to the provider")
    pledge_id = info.metadata.get("pledge_id", "")
    if not pledge_id.isdigit() or session.scalar(select(Pledge.id).where(Pledge.id == int(pledge_id))) is None:
        return WebhookResult("ignored", f"{info.id} belongs to no pledge of ours")
    pledge = charges.lock_pledge(session, int(pledge_id))
    attempt = charges.attempt_for(session, info)
    if attempt is None:
        return WebhookResult("ignored", f"{info.id} matches no attempt of pledge {pledge.id}")
    before = pledge.status
    applied = charges.apply_outcome(session, pledge, attempt, ChargeResult.from_info(info))
    outcome = f"{info.id} {info.status}: pledge {pledge.id} {before} -> {pledge.status}"
    return WebhookResult("applied", f"ALARM {applied.alarm}" if applied.alarm else outcome, applied.notices)
