"""The backer's fix-the-payment page for a pledge in action_required, per the gateway's contract:

- after `AuthenticationRequired` the existing PaymentIntent is confirmed on-session in the browser
  (`stripe.confirmCardPayment` with its client secret): no second PaymentIntent;
- after a decline a new card is saved with a fresh SetupIntent and charged on-session
  (`create_payment_intent_on_session`, recorded as the pledge's next attempt before the call).
After each step the server re-fetches the PaymentIntent; the browser's word decides nothing.

These use cases commit on their own (a session per unit of work), because the attempt must be committed
before the provider is called and the pledge's charge lock held across that call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crowdfund.domain.pledges import PledgeStatus
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.services import charges
from crowdfund.services.charge_locks import charge_lock
from crowdfund.services.charges import Applied, ChargeResult, Outcome
from payments.gateway import InvalidRequest, PaymentGateway, PaymentIntentInfo

_S = PledgeStatus
PAID_STATES = (_S.PAID.value, _S.PARTIALLY_REFUNDED.value, _S.REFUNDED.value)
NEEDS_AUTHENTICATION = frozenset({"authentication_required"})


class FixRefused(Exception):
    """A step the page cannot take now; `code`: setup (the new card is not ours or not saved), busy
    (another payment of this pledge is in flight), state (the pledge needs no payment)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FixPlan:
    """What the page offers: authenticate | new_card | paid | waiting | closed."""

    mode: str
    client_secret: str | None = None
    payment_method_id: str | None = None
    setup_client_secret: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class FixStep:
    """The answer to a new card: the PaymentIntent's status, and its client secret when 3-D Secure is next."""

    status: str
    client_secret: str | None = None
    error_message: str | None = None


def prepare_fix(factory: sessionmaker[Session], engine: Engine, gateway: PaymentGateway, pledge_id: int) -> FixPlan:
    """Decide what the page offers, after settling what the provider already knows."""
    with factory() as session:
        pledge = session.get(Pledge, pledge_id)
        assert pledge is not None
        status, pi_id, customer_id = pledge.status, pledge.payment_intent_id, pledge.customer_id
        saved_method = pledge.payment_method_id
        attempt = charges.latest_attempt(session, pledge_id)
        open_attempt = attempt is not None and attempt.status in charges.OPEN_ATTEMPTS
        request = charges.charge_request(pledge, attempt) if attempt is not None else None
    if status != _S.ACTION_REQUIRED:
        return FixPlan("paid" if status in PAID_STATES else "waiting" if status in (_S.CHARGING, _S.PROCESSING)
                       else "closed")
    if open_attempt and request is not None:
        return _recover(factory, engine, gateway, request)
    info = gateway.retrieve_payment_intent(pi_id) if pi_id else None
    if info is not None and charges.outcome_of(info.status) != Outcome.NEEDS_BACKER:
        _record(factory, pledge_id, info)
        return FixPlan("paid" if info.status == "succeeded" else "waiting")
    if info is not None and (info.status == "requires_action" or info.last_error_code in NEEDS_AUTHENTICATION):
        # Real Stripe detaches the method from a PaymentIntent that failed off-session: confirm with the saved one.
        return FixPlan("authenticate", info.client_secret, info.payment_method_id or saved_method)
    setup = gateway.create_setup_intent(customer_id=customer_id or "", payment_method_types=["card"],
                                        metadata={"pledge_id": str(pledge_id), "purpose": "fix"},
                                        idempotency_key=f"pledge-{pledge_id}-fix-setup-{secrets.token_hex(8)}")
    return FixPlan("new_card", setup_client_secret=setup.client_secret,
                   error_message=info.last_error_message if info is not None else None)


def _recover(factory: sessionmaker[Session], engine: Engine, gateway: PaymentGateway,
             request: charges.ChargeRequest) -> FixPlan:
    """An earlier attempt's answer was lost: adopt its PaymentIntent if the provider has one (never create)."""
    with charge_lock(engine, request.pledge_id) as got:
        if not got:
            return FixPlan("waiting")
        found = charges.find_existing(gateway, request)
        result = ChargeResult.from_info(found) if found else ChargeResult(Outcome.NEEDS_BACKER, error_code="abandoned")
        _record_result(factory, request, result)
    return prepare_fix(factory, engine, gateway, request.pledge_id)


def pay_with_new_card(factory: sessionmaker[Session], engine: Engine, gateway: PaymentGateway, pledge_id: int,
                      setup_intent_id: str) -> FixStep:
    """Charge the card the backer just saved (re-fetched SetupIntent) on-session, as the pledge's next attempt."""
    try:
        setup = gateway.retrieve_setup_intent(setup_intent_id) if setup_intent_id else None
    except InvalidRequest:  # an id the provider does not know is the client's mistake, not an outage
        setup = None
    if setup is None or not setup.succeeded or setup.metadata.get("pledge_id") != str(pledge_id):
        raise FixRefused("setup")
    with charge_lock(engine, pledge_id) as got:
        if not got:
            raise FixRefused("busy")
        with factory() as session, session.begin():
            pledge = charges.lock_pledge(session, pledge_id)
            if setup.customer_id not in (None, pledge.customer_id):
                raise FixRefused("setup")
            if pledge.status != _S.ACTION_REQUIRED:
                raise FixRefused("state")
            latest = charges.latest_attempt(session, pledge_id)
            if latest is not None and latest.status in charges.OPEN_ATTEMPTS:
                raise FixRefused("busy")
            pledge.payment_method_id, pledge.payment_method_type = setup.payment_method_id, "card"
            request = charges.charge_request(pledge, charges.start_attempt(session, pledge, kind="on_session"))
        result = charges.send_charge(gateway, request)
        _record_result(factory, request, result)
    return FixStep(result.status or result.outcome.value, result.client_secret, result.error_message)


def complete_fix(factory: sessionmaker[Session], gateway: PaymentGateway, pledge_id: int) -> str:
    """After the browser's step: re-fetch the pledge's PaymentIntent, apply it, return the pledge's status."""
    with factory() as session:
        pledge = session.get(Pledge, pledge_id)
        assert pledge is not None
        status, pi_id = pledge.status, pledge.payment_intent_id
    if status == _S.ACTION_REQUIRED and pi_id:
        _record(factory, pledge_id, gateway.retrieve_payment_intent(pi_id))
        with factory() as session:
            status = session.get(Pledge, pledge_id).status  # type: ignore[union-attr]
    return status


def _record(factory: sessionmaker[Session], pledge_id: int, info: PaymentIntentInfo) -> Applied:
    with factory() as session, session.begin():
        pledge = charges.lock_pledge(session, pledge_id)
        attempt = charges.attempt_for(session, info)
        if attempt is None or attempt.pledge_id != pledge_id:
            return Applied()
        return charges.apply_outcome(session, pledge, attempt, ChargeResult.from_info(info), actor_id=pledge.backer_id)


def _record_result(factory: sessionmaker[Session], request: charges.ChargeRequest, result: ChargeResult) -> Applied:
    with factory() as session, session.begin():
        pledge = charges.lock_pledge(session, request.pledge_id)
        attempt = session.get(PaymentAttempt, request.attempt_id, populate_existing=True)
        assert attempt is not None
        return charges.apply_outcome(session, pledge, attempt, result, actor_id=pledge.backer_id)
