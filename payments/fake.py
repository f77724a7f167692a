"""An in-process `PaymentGateway` for fast tests, including the paths localstripe cannot show.

Behaviour is keyed by the payment method id (`PAYMENT_METHODS`; add more with `add_payment_method`). Like real
Stripe it honours idempotency keys (a repeated key replays the first outcome; the same key with other parameters
is refused); `FakeGateway(honour_idempotency_keys=False)` behaves like localstripe instead. `fail_next` makes the
next calls raise `ProviderUnavailable` either before the effect (nothing happened) or after it (the provider
acted, the response was lost). Ids are deterministic: `pi_fake_0001`, `cus_fake_0001`, ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, TypeVar

from payments.fake_provider import SimulatedProvider
from payments.gateway import (
    PAYMENT_METHOD_TYPES,
    CardDeclined,
    CustomerRef,
    InvalidRequest,
    PaymentIntentInfo,
    RefundInfo,
    SetupIntentInfo,
    require_collected,
)
from payments.units import normalize_currency, to_provider_units

T = TypeVar("T")
Outcome = Literal["succeeds", "declines", "authentication_required", "processing", "processing_fails"]

#: payment method id -> (type, what happens when it is charged)
PAYMENT_METHODS: dict[str, tuple[str, Outcome]] = {
    "pm_card_visa": ("card", "succeeds"),
    "pm_card_chargeDeclined": ("card", "declines"),
    "pm_card_chargeCustomerFail": ("card", "declines"),  # Stripe's and localstripe's name for 4000000000000341
    "pm_card_authenticationRequired": ("card", "authentication_required"),
    "pm_sepa_debit": ("sepa_debit", "processing"),
    "pm_sepa_debit_fails": ("sepa_debit", "processing_fails"),
}
AUTHENTICATION_CODES = frozenset({"authentication_required", "payment_intent_authentication_failure"})
DECLINED = ("card_declined", "Your card was declined.")
AUTH_FAILED = ("payment_intent_authentication_failure", "The provided PaymentMethod has failed authentication.")
NO_FUNDS = ("insufficient_funds", "The account has insufficient funds.")


class FakeGateway(SimulatedProvider):
    """`PaymentGateway` in dictionaries. Test helpers: `confirm_setup_intent`, `complete_authentication`,
    `finish_processing`, `fail_next`, `payment_intents_created`, `events`, `sign_webhook`, `signed_event`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.payment_methods = dict(PAYMENT_METHODS)
        self.customers: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, SetupIntentInfo] = {}
        self.payment_intents: dict[str, PaymentIntentInfo] = {}
        self.refunds: dict[str, RefundInfo] = {}
        self.payment_intents_created: Counter[str] = Counter()  # by metadata pledge_id

    def add_payment_method(self, payment_method_id: str, type_: str, outcome: Outcome) -> None:
        """Teach the fake another payment method id and what charging it does."""
        self.payment_methods[payment_method_id] = (type_, outcome)

    # -- customers and setup intents --------------------------------------------------------------------------
    def create_customer(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> CustomerRef:
        """Create a customer in memory."""
        params = {"email": email, "name": name, "metadata": dict(metadata or {})}

        def effect() -> CustomerRef:
            ref = CustomerRef(self._next_id("cus"))
            self.customers[ref.id] = params
            return ref

        return self._run("create_customer", idempotency_key, params, effect)

    def create_setup_intent(
        self, *, customer_id: str, payment_method_types: list[str], metadata: Mapping[str, str], idempotency_key: str
    ) -> SetupIntentInfo:
        """Create a SetupIntent waiting for `confirm_setup_intent` (the browser's part)."""
        if not payment_method_types or not set(payment_method_types) <= PAYMENT_METHOD_TYPES:
            raise InvalidRequest("unsupported payment method types")
        self._get(self.customers, customer_id)
        params = {"customer": customer_id, "types": list(payment_method_types), "metadata": _strings(metadata)}

        def effect() -> SetupIntentInfo:
            si_id = self._next_id("seti")
            info = SetupIntentInfo(
                si_id, "requires_payment_method", f"{si_id}_secret_fake", customer_id, None, None, params["metadata"]
            )
            self.setup_intents[si_id] = info
            return info

        return self._run("create_setup_intent", idempotency_key, params, effect)

    def confirm_setup_intent(self, setup_intent_id: str, payment_method_id: str, *, succeed: bool = True) -> None:
        """Do what Stripe.js does in the browser: attach a method (or fail, as a card declined at setup)."""
        si = self._get(self.setup_intents, setup_intent_id)
        if not succeed:
            self.setup_intents[si.id] = replace(si, status="requires_payment_method", last_error=DECLINED[1])
            return
        type_, _ = self._get(self.payment_methods, payment_method_id)
        self.setup_intents[si.id] = replace(
            si, status="succeeded", payment_method_id=payment_method_id, payment_method_type=type_, last_error=None
        )

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        """Fetch a SetupIntent."""
        return self._run("retrieve_setup_intent", None, {}, lambda: self._get(self.setup_intents, setup_intent_id))

    # -- payment intents ----------------------------------------------------------------------------------
    def charge_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_cents: int,
        currency: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        payment_method_type: str = "card",
        description: str | None = None,
    ) -> PaymentIntentInfo:
        """Charge like real Stripe off-session: 3-D Secure cards raise `AuthenticationRequired`."""
        params = self._payment_params(customer_id, payment_method_id, amount_cents, currency, metadata)

        def charge() -> PaymentIntentInfo:
            return require_collected(self._confirm(params, off_session=True))

        return self._run("charge_off_session", idempotency_key, params, charge)

    def create_payment_intent_on_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_cents: int,
        currency: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        payment_method_type: str = "card",
        description: str | None = None,
    ) -> PaymentIntentInfo:
        """Charge with the backer present: 3-D Secure cards return `requires_action` for the browser."""
        params = self._payment_params(customer_id, payment_method_id, amount_cents, currency, metadata)

        def effect() -> PaymentIntentInfo:
            info = self._confirm(params, off_session=False)
            if info.status == "requires_payment_method":
                raise CardDeclined(info.last_error_message or "", code=info.last_error_code, payment_intent_id=info.id)
            return info

        return self._run("create_payment_intent_on_session", idempotency_key, params, effect)

    def _payment_params(
        self, customer_id: str, payment_method_id: str, amount_cents: int, currency: str, metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        if to_provider_units(amount_cents, currency) <= 0:  # the adapter's validation; localstripe wants > 0
            raise InvalidRequest("amount must be positive")
        self._get(self.customers, customer_id)
        self._get(self.payment_methods, payment_method_id)
        return {"customer": customer_id, "payment_method": payment_method_id, "amount": amount_cents,
                "currency": normalize_currency(currency), "metadata": _strings(metadata)}  # fmt: skip

    def _confirm(self, params: Mapping[str, Any], *, off_session: bool) -> PaymentIntentInfo:
        pi_id = self._next_id("pi")
        info = PaymentIntentInfo(
            pi_id, "requires_confirmation", params["amount"], params["currency"], params["customer"],
            params["payment_method"], params["metadata"], f"{pi_id}_secret_fake",
        )  # fmt: skip
        self.payment_intents_created[info.metadata.get("pledge_id", "")] += 1
        _, outcome = self._get(self.payment_methods, params["payment_method"])
        if outcome == "authentication_required" and off_session:  # Stripe's shape, not localstripe's
            auth = ("authentication_required", "This payment requires authentication.")
            return self._store(info, "requires_payment_method", auth, "payment_intent.payment_failed")
        if outcome == "authentication_required":
            return self._store(info, "requires_action", None, "payment_intent.requires_action")
        if outcome == "declines":
            return self._store(info, "requires_payment_method", DECLINED, "payment_intent.payment_failed", "ch")
        if outcome in ("processing", "processing_fails"):
            return self._store(info, "processing", None, "payment_intent.processing", "py")
        return self._store(info, "succeeded", None, "payment_intent.succeeded", "ch")

    def _store(
        self,
        info: PaymentIntentInfo,
        status: str,
        error: tuple[str, str] | None,
        event: str,
        charge_prefix: str | None = None,
    ) -> PaymentIntentInfo:
        code, message = error or (None, None)
        charge_id = self._next_id(charge_prefix) if charge_prefix else info.charge_id
        info = replace(info, status=status, last_error_code=code, last_error_message=message, charge_id=charge_id)
        self.payment_intents[info.id] = info
        self._emit(event, payment_intent_payload(info))
        return info

    def complete_authentication(self, payment_intent_id: str, *, success: bool = True) -> PaymentIntentInfo:
        """Do what `stripe.confirmCardPayment` does on the fix-the-payment page (3-D Secure done or failed)."""
        info = self._get(self.payment_intents, payment_intent_id)
        needs_backer = info.status == "requires_action" or info.last_error_code in AUTHENTICATION_CODES
        if not needs_backer or info.status == "succeeded":
            raise InvalidRequest(f"{payment_intent_id} does not need authentication ({info.status})")
        if not success:
            return self._store(info, "requires_payment_method", AUTH_FAILED, "payment_intent.payment_failed")
        return self._store(info, "succeeded", None, "payment_intent.succeeded", "ch")

    def finish_processing(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Let a SEPA debit in `processing` succeed or fail, as its payment method says."""
        info = self._get(self.payment_intents, payment_intent_id)
        if info.status != "processing":
            raise InvalidRequest(f"{payment_intent_id} is not processing ({info.status})")
        if self._get(self.payment_methods, info.payment_method_id or "")[1] == "processing_fails":
            return self._store(info, "requires_payment_method", NO_FUNDS, "payment_intent.payment_failed")
        return self._store(info, "succeeded", None, "payment_intent.succeeded")

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Fetch a PaymentIntent."""
        pi_id = payment_intent_id
        return self._run("retrieve_payment_intent", None, {}, lambda: self._get(self.payment_intents, pi_id))

    def find_payment_intents(
        self, *, metadata_key: str, metadata_value: str, customer_id: str | None = None
    ) -> list[PaymentIntentInfo]:
        """List the PaymentIntents with that metadata value, oldest first."""

        def matching() -> list[PaymentIntentInfo]:
            found = [pi for pi in self.payment_intents.values() if pi.metadata.get(metadata_key) == metadata_value]
            return [pi for pi in found if customer_id in (None, pi.customer_id)]

        return self._run("find_payment_intents", None, {}, matching)

    # -- refunds --------------------------------------------------------------------------------------------
    def refund(
        self,
        *,
        payment_intent_id: str,
        amount_cents: int | None,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> RefundInfo:
        """Refund a succeeded PaymentIntent; like Stripe, never more than what is left of it."""
        params = {"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": _strings(metadata)}

        def effect() -> RefundInfo:
            pi = self._get(self.payment_intents, payment_intent_id)
            left = pi.amount_cents - self.refunded_cents(payment_intent_id)
            amount = left if amount_cents is None else amount_cents
            if pi.status != "succeeded" or not 0 < amount <= left:
                raise InvalidRequest(f"cannot refund {amount} of {payment_intent_id} ({pi.status}, {left} left)")
            info = RefundInfo(self._next_id("re"), "succeeded", amount, pi.currency, pi.id)
            self.refunds[info.id] = info
            return info

        return self._run("refund", idempotency_key, params, effect)

    def refunded_cents(self, payment_intent_id: str) -> int:
        """Sum what has been refunded of a PaymentIntent."""
        return sum(r.amount_cents for r in self.refunds.values() if r.payment_intent_id == payment_intent_id)

    def retrieve_refund(self, refund_id: str) -> RefundInfo:
        """Fetch a refund."""
        return self._run("retrieve_refund", None, {}, lambda: self._get(self.refunds, refund_id))

    def _get(self, table: Mapping[str, T], object_id: str) -> T:
        if object_id not in table:
            raise InvalidRequest(f"No such object: {object_id!r}")
        return table[object_id]


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def payment_intent_payload(pi: PaymentIntentInfo) -> dict[str, Any]:
    """Render a PaymentIntent the way Stripe's API and webhooks show it."""
    error = {"code": pi.last_error_code, "message": pi.last_error_message} if pi.last_error_code else None
    return {
        "id": pi.id, "object": "payment_intent", "status": pi.status, "currency": pi.currency,
        "amount": to_provider_units(pi.amount_cents, pi.currency), "customer": pi.customer_id,
        "payment_method": pi.payment_method_id, "metadata": dict(pi.metadata), "latest_charge": pi.charge_id,
        "client_secret": pi.client_secret, "last_payment_error": error,
    }  # fmt: skip
