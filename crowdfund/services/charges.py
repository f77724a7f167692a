"""Collecting a pledge exactly once: the attempt is recorded and committed before the provider is called,
a lock marks the attempt as in flight, and an attempt whose outcome is unknown is looked up at the provider
(find-first, by `metadata.pledge_id` and `metadata.attempt`) before anything new is created.

Every provider outcome, whoever learns it first (settlement, webhook, the backer's page), is applied by
`apply_outcome`, which is idempotent: the second report of the same fact changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from crowdfund.domain.pledges import PledgeAction, PledgeStatus, idempotency_key
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from crowdfund.services import ledger, rate_limit
from crowdfund.services.matching import realise_match, release_match
from crowdfund.services.pledge_state import apply_pledge_action
from payments.gateway import (
    AuthenticationRequired,
    CardDeclined,
    InvalidRequest,
    PaymentError,
    PaymentGateway,
    PaymentIntentInfo,
    ProviderUnavailable,
)

log = logging.getLogger(__name__)

#: An attempt known never to have reached the provider (safe to send without looking first).
NOT_SENT = "not_sent"
#: Attempt statuses without a known outcome: `started` and `unknown` may or may not have a PaymentIntent.
OPEN_ATTEMPTS = ("started", "unknown", NOT_SENT)
_S = PledgeStatus


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    NEEDS_BACKER = "needs_backer"
    UNKNOWN = "unknown"


def outcome_of(status: str) -> Outcome:
    """Classify a PaymentIntent status: collected, pending (SEPA), waiting for the backer, or unclear."""
    if status == "succeeded":
        return Outcome.SUCCEEDED
    if status == "processing":
        return Outcome.PROCESSING
    if status in ("requires_action", "requires_payment_method", "canceled"):
        return Outcome.NEEDS_BACKER
    return Outcome.UNKNOWN


@dataclass(frozen=True)
class Notice:
    """A mail to send once the transaction that decided it has committed."""

    kind: str  # campaign_funded | campaign_not_funded | action_required | payment_failed | refund_made
    pledge_id: int
    email: str
    name: str
    locale: str | None
    project_title: str
    amount_cents: int
    currency: str
    sepa: bool = False


def notice(kind: str, pledge: Pledge, amount_cents: int | None = None) -> Notice:
    """Build the notice `kind` for the pledge's backer."""
    backer = pledge.backer
    return Notice(kind, pledge.id, backer.email, backer.name, backer.locale, pledge.project.title,
                  pledge.amount_cents if amount_cents is None else amount_cents, pledge.currency,
                  sepa=pledge.payment_method_type == "sepa_debit")


@dataclass(frozen=True)
class ChargeRequest:
    """Everything the provider call needs, copied out of the session so that no transaction stays open."""

    pledge_id: int
    attempt_id: int
    attempt_no: int
    kind: str
    customer_id: str
    payment_method_id: str
    payment_method_type: str
    amount_cents: int
    currency: str
    idempotency_key: str

    @property
    def metadata(self) -> dict[str, str]:
        """What every PaymentIntent carries, so that the provider's records can be matched to ours."""
        return {"pledge_id": str(self.pledge_id), "attempt": str(self.attempt_no)}


@dataclass(frozen=True)
class ChargeResult:
    """What one provider call told us; `outcome` UNKNOWN when it cannot be known (ProviderUnavailable)."""

    outcome: Outcome
    payment_intent_id: str | None = None
    amount_cents: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    client_secret: str | None = None
    misconfigured: bool = False
    status: str | None = None  # the PaymentIntent's own status, when the provider sent it
    rate_limited: bool = False  # HTTP 429: the provider did not carry the request out
    retry_after: float | None = None  # seconds the provider asked us to wait (Retry-After), when it said

    @classmethod
    def from_info(cls, info: PaymentIntentInfo) -> ChargeResult:
        """Read a PaymentIntent as the provider reports it."""
        return cls(outcome_of(info.status), info.id, info.amount_cents, info.last_error_code,
                   info.last_error_message, info.client_secret, status=info.status)


@dataclass
class Applied:
    """What applying an outcome did: the notices to send and whether the pledge got paid."""

    notices: list[Notice] = field(default_factory=list)
    paid: bool = False
    needs_backer: bool = False
    processing: bool = False
    alarm: str | None = None


# --- attempts ---------------------------------------------------------------------------------------------


def lock_pledge(session: Session, pledge_id: int) -> Pledge:
    """Load a pledge under a row lock (FOR UPDATE on PostgreSQL), as committed now."""
    stmt = select(Pledge).where(Pledge.id == pledge_id).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def lock_pledges(session: Session, pledge_ids: list[int]) -> dict[int, Pledge]:
    """Lock several pledges in id order (one statement) and load their backers and projects for the mails."""
    stmt = (select(Pledge).where(Pledge.id.in_(pledge_ids)).order_by(Pledge.id).with_for_update(of=Pledge)
            .options(selectinload(Pledge.backer), selectinload(Pledge.project)))
    return {p.id: p for p in session.scalars(stmt.execution_options(populate_existing=True))}


def latest_attempt(session: Session, pledge_id: int) -> PaymentAttempt | None:
    """Return the pledge's newest attempt (the one its status is about), as committed now."""
    stmt = select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledge_id).order_by(
        PaymentAttempt.attempt_no.desc()).limit(1)
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def start_attempt(session: Session, pledge: Pledge, *, kind: str) -> PaymentAttempt:
    """Record the next attempt to collect a pledge; the caller commits it before calling the provider."""
    number = int(session.scalar(select(func.coalesce(func.max(PaymentAttempt.attempt_no), 0))
                                .where(PaymentAttempt.pledge_id == pledge.id)) or 0) + 1
    attempt = PaymentAttempt(pledge_id=pledge.id, attempt_no=number, kind=kind, status="started",
                             idempotency_key=idempotency_key(pledge.id, "charge", number),
                             amount_cents=pledge.amount_cents, currency=pledge.currency)
    session.add(attempt)
    session.flush()
    return attempt


def charge_request(pledge: Pledge, attempt: PaymentAttempt) -> ChargeRequest:
    """Copy what the provider call for `attempt` needs; the same key and metadata on every resend."""
    return ChargeRequest(pledge.id, attempt.id, attempt.attempt_no, attempt.kind, pledge.customer_id or "",
                         pledge.payment_method_id or "", pledge.payment_method_type or "card",
                         attempt.amount_cents, attempt.currency, attempt.idempotency_key)


def send_charge(gateway: PaymentGateway, request: ChargeRequest) -> ChargeResult:
    """Call the provider once for an attempt and translate its answer (never raises a PaymentError)."""
    call = gateway.charge_off_session if request.kind == "off_session" else gateway.create_payment_intent_on_session
    try:
        info = call(customer_id=request.customer_id, payment_method_id=request.payment_method_id,
                    amount_cents=request.amount_cents, currency=request.currency, metadata=request.metadata,
                    idempotency_key=request.idempotency_key, payment_method_type=request.payment_method_type)
    except AuthenticationRequired as error:
        return ChargeResult(Outcome.NEEDS_BACKER, error.payment_intent_id, None, "authentication_required",
                            error.message)
    except CardDeclined as error:
        return ChargeResult(Outcome.NEEDS_BACKER, error.payment_intent_id, None, error.code or "card_declined",
                            error.message, status="declined")
    except InvalidRequest as error:  # nothing happened (e.g. the saved method is gone): the backer must act
        return ChargeResult(Outcome.NEEDS_BACKER, None, None, "invalid_request", str(error))
    except ProviderUnavailable as error:
        limited, retry_after = rate_limit.rate_limited(error)
        return ChargeResult(Outcome.UNKNOWN, error_message=str(error), rate_limited=limited, retry_after=retry_after)
    except PaymentError as error:  # our configuration (keys, permissions): unknown too, and worth an alarm
        return ChargeResult(Outcome.UNKNOWN, error_message=str(error), misconfigured=True)
    return ChargeResult.from_info(info)


def find_existing(gateway: PaymentGateway, request: ChargeRequest) -> PaymentIntentInfo | None:
    """Ask the provider for the PaymentIntent of an attempt whose outcome we lost (find-first recovery).

    More than one means a pledge was charged twice somewhere: logged loudly, the collected one adopted."""
    found = gateway.find_payment_intents(metadata_key="pledge_id", metadata_value=str(request.pledge_id),
                                         customer_id=request.customer_id or None)
    mine = [pi for pi in found if pi.metadata.get("attempt") == str(request.attempt_no)]
    if len(mine) > 1:
        log.error("Pledge %s attempt %s has %d PaymentIntents: %s", request.pledge_id, request.attempt_no,
                  len(mine), [pi.id for pi in mine])
    ranked = sorted(mine, key=lambda pi: ["succeeded", "processing"].index(pi.status)
                    if pi.status in ("succeeded", "processing") else 2)
    return ranked[0] if ranked else None


def attempt_for(session: Session, info: PaymentIntentInfo) -> PaymentAttempt | None:
    """Find our attempt behind a PaymentIntent: by its id, else by the metadata it was created with."""
    attempt = session.scalars(select(PaymentAttempt).where(PaymentAttempt.payment_intent_id == info.id)).first()
    if attempt is not None:
        return attempt
    pledge_id, number = info.metadata.get("pledge_id", ""), info.metadata.get("attempt", "")
    if not (pledge_id.isdigit() and number.isdigit()):
        return None
    attempt = session.scalars(select(PaymentAttempt).where(
        PaymentAttempt.pledge_id == int(pledge_id), PaymentAttempt.attempt_no == int(number))).first()
    return attempt if attempt is not None and attempt.payment_intent_id in (None, info.id) else None


# --- outcomes ---------------------------------------------------------------------------------------------

ATTEMPT_STATUS = {Outcome.SUCCEEDED: "succeeded", Outcome.PROCESSING: "processing",
                  Outcome.NEEDS_BACKER: "needs_backer", Outcome.UNKNOWN: "unknown"}


def apply_outcome(session: Session, pledge: Pledge, attempt: PaymentAttempt, result: ChargeResult, *,
                  actor_id: int | None = None) -> Applied:
    """Record what the provider said about an attempt and move the pledge accordingly (idempotent).

    The pledge must be locked by the caller. Collected money is always booked: a late failure after a
    success is ignored, a success after a failure still marks the pledge paid."""
    if result.payment_intent_id and attempt.payment_intent_id is None:
        attempt.payment_intent_id = result.payment_intent_id
    if result.outcome == Outcome.UNKNOWN:
        if attempt.status in OPEN_ATTEMPTS:
            attempt.status, attempt.error_message = "unknown", result.error_message
        return Applied()
    attempt.status = ATTEMPT_STATUS[result.outcome]
    attempt.error_code, attempt.error_message = result.error_code, result.error_message
    if result.outcome == Outcome.SUCCEEDED:
        return _collected(session, pledge, attempt, result, actor_id)
    current = latest_attempt(session, pledge.id)
    if current is None or current.id != attempt.id:
        return Applied()  # a stale report about an older attempt changes nothing
    if result.outcome == Outcome.PROCESSING:
        return _processing(session, pledge, attempt, actor_id)
    return _needs_backer(session, pledge, attempt, actor_id)


def _collected(session: Session, pledge: Pledge, attempt: PaymentAttempt, result: ChargeResult,
               actor_id: int | None) -> Applied:
    pi_id = result.payment_intent_id or attempt.payment_intent_id
    if pledge.status in (_S.PAID, _S.PARTIALLY_REFUNDED, _S.REFUNDED):
        if pledge.payment_intent_id == pi_id:
            return Applied()
        alarm = f"pledge {pledge.id} is already paid by {pledge.payment_intent_id}; {pi_id} collected as well"
        log.error("DOUBLE CHARGE: %s", alarm)
        return Applied(alarm=alarm)
    if pledge.status not in (_S.CHARGING, _S.PROCESSING, _S.ACTION_REQUIRED):
        alarm = f"pledge {pledge.id} is {pledge.status} but {pi_id} collected money: refund it"
        log.error("UNEXPECTED CHARGE: %s", alarm)
        return Applied(alarm=alarm)
    first_report = pledge.status == _S.CHARGING
    amount = result.amount_cents if result.amount_cents is not None else attempt.amount_cents
    pledge.payment_intent_id, pledge.paid_cents = pi_id, amount
    apply_pledge_action(session, pledge, PledgeAction.MARK_PAID, actor_id=actor_id, reason=pi_id)
    ledger.post_entry(session, kind="charge", amount_cents=amount, project_id=pledge.project_id,
                      pledge_id=pledge.id, provider_ref=pi_id, idempotency_key=f"charge-{pi_id}",
                      actor_id=actor_id, currency=pledge.currency, note=f"attempt {attempt.attempt_no}")
    _book_match(session, pledge, actor_id)
    return Applied(notices=[notice("campaign_funded", pledge, amount)] if first_report else [], paid=True)


def _book_match(session: Session, pledge: Pledge, actor_id: int | None) -> None:
    match = realise_match(session, pledge, actor_id=actor_id)
    if match is not None and match.status == "realised":
        ledger.post_entry(session, kind="match", amount_cents=match.amount_cents, project_id=pledge.project_id,
                          pledge_id=pledge.id, pot_id=match.pot_id, provider_ref=None,
                          idempotency_key=f"match-pledge-{pledge.id}", actor_id=actor_id,
                          currency=pledge.currency, note=f"match {match.id}")


def _processing(session: Session, pledge: Pledge, attempt: PaymentAttempt, actor_id: int | None) -> Applied:
    if pledge.status != _S.CHARGING:
        return Applied()
    pledge.payment_intent_id = attempt.payment_intent_id
    apply_pledge_action(session, pledge, PledgeAction.MARK_PROCESSING, actor_id=actor_id,
                        reason=attempt.payment_intent_id)
    return Applied(notices=[notice("campaign_funded", pledge, attempt.amount_cents)], processing=True)


def _needs_backer(session: Session, pledge: Pledge, attempt: PaymentAttempt, actor_id: int | None) -> Applied:
    if pledge.status == _S.ACTION_REQUIRED:
        pledge.payment_intent_id = attempt.payment_intent_id or pledge.payment_intent_id
        return Applied(needs_backer=True)
    if pledge.status not in (_S.CHARGING, _S.PROCESSING):
        return Applied()
    pledge.payment_intent_id = attempt.payment_intent_id
    apply_pledge_action(session, pledge, PledgeAction.REQUIRE_ACTION, actor_id=actor_id,
                        reason=attempt.error_code or attempt.status)
    return Applied(notices=[notice("action_required", pledge, attempt.amount_cents)], needs_backer=True)


def fail_pledge(session: Session, pledge: Pledge, *, actor_id: int | None = None) -> Applied:
    """Give up on a pledge whose fix window is over: failed, its match back to the pot, its reward unit back."""
    apply_pledge_action(session, pledge, PledgeAction.FAIL, actor_id=actor_id, reason="fix window over")
    release_match(session, pledge, actor_id=actor_id)
    give_back_reward(session, pledge)
    return Applied(notices=[notice("payment_failed", pledge)])


def give_back_reward(session: Session, pledge: Pledge) -> None:
    """Return the unit of its reward that a released or failed pledge held (one atomic, row-locking UPDATE)."""
    if pledge.reward_id is not None:
        session.execute(update(Reward).where(Reward.id == pledge.reward_id, Reward.quantity_claimed > 0)
                        .values(quantity_claimed=Reward.quantity_claimed - 1))
