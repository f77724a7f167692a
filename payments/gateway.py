"""The payment gateway port: plain dataclasses, the error contract and the `PaymentGateway` protocol.

Amounts are integer cents (hundredths of the currency's main unit) plus a lower-case ISO currency code;
conversion to the provider's units happens inside the adapters only (see `payments.units`).

Error contract, shared by every adapter:
- `CardDeclined`: the provider refused the money; nothing was charged. Carries the PaymentIntent id when one
  exists, so the backer can be sent to fix it and the attempt can be matched to the provider's records.
- `AuthenticationRequired`: off-session charge needs the backer (3-D Secure); nothing was charged. Carries the
  PaymentIntent id; the backer completes it on-session (see `PaymentGateway.charge_off_session`).
- `ProviderUnavailable`: network error, timeout, rate limit or a 5xx. **We do not know whether the call took
  effect.** Never treat it as a decline: retry with the *same* idempotency key, or look the object up
  (`find_payment_intents`) before creating another.
- `InvalidRequest`: the provider rejected the request itself (bad parameters, unknown id); nothing happened.
- `InvalidSignature`: a webhook body does not carry a valid signature for our secret.

After `ProviderUnavailable` on a charge, recover with `find_payment_intents(metadata_key="pledge_id", ...)`
before creating anything: real Stripe would replay the same idempotency key, but localstripe ignores keys.

The backer's fix-the-payment page (localstripe's fake Stripe.js has `confirmCardSetup` and a
`confirmCardPayment` that only runs its 3-D Secure dialog on a PaymentIntent in `requires_action`):
- after `AuthenticationRequired`, reuse that PaymentIntent: the page calls
  `stripe.confirmCardPayment(client_secret, {payment_method: saved_method_id})` (real Stripe re-confirms it
  on-session with 3-D Secure; localstripe completes its `requires_action`). No second PaymentIntent.
- after `CardDeclined`, save a new method with a fresh SetupIntent (`confirmCardSetup`), then
  `create_payment_intent_on_session` with a new idempotency key; on `requires_action` the page calls
  `stripe.confirmCardPayment(client_secret)`. The declined PaymentIntent stays uncharged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: PaymentIntent statuses after which no more money moves without a new action.
FINAL_PAYMENT_STATUSES = frozenset({"succeeded", "canceled"})
PAYMENT_METHOD_TYPES = frozenset({"card", "sepa_debit"})


@dataclass(frozen=True)
class CustomerRef:
    """A provider customer, the owner of saved payment methods."""

    id: str


@dataclass(frozen=True)
class SetupIntentInfo:
    """A SetupIntent as the provider reports it; `payment_method_type` is 'card' or 'sepa_debit'."""

    id: str
    status: str
    client_secret: str
    customer_id: str | None
    payment_method_id: str | None
    payment_method_type: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Tell whether a payment method is saved and may be charged off-session."""
        return self.status == "succeeded" and self.payment_method_id is not None


@dataclass(frozen=True)
class PaymentIntentInfo:
    """A PaymentIntent as the provider reports it; `amount_cents` already converted back to cents."""

    id: str
    status: str
    amount_cents: int
    currency: str
    customer_id: str | None
    payment_method_id: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    client_secret: str | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    charge_id: str | None = None


@dataclass(frozen=True)
class RefundInfo:
    """A refund as the provider reports it (status 'succeeded', 'pending', 'failed', ...)."""

    id: str
    status: str
    amount_cents: int
    currency: str
    payment_intent_id: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook event: its id (deduplicate on it), type, the object it is about, the whole body."""

    id: str
    type: str
    object_id: str | None
    object_type: str | None
    payload: Mapping[str, Any]


class PaymentError(Exception):
    """Base of every error a gateway raises; `str(error)` is the provider's message."""


class CardDeclined(PaymentError):
    """The provider refused the payment; nothing was charged. `payment_intent_id` when one was created."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.decline_code = message, code, decline_code
        self.payment_intent_id = payment_intent_id


class AuthenticationRequired(PaymentError):
    """The backer must authenticate (3-D Secure) on-session; nothing was charged yet."""

    def __init__(self, message: str, *, payment_intent_id: str | None) -> None:
        super().__init__(message)
        self.message, self.payment_intent_id = message, payment_intent_id


class ProviderUnavailable(PaymentError):
    """The outcome is unknown: the call may or may not have taken effect at the provider."""


class InvalidRequest(PaymentError):
    """The provider refused the request as such; nothing happened."""


class InvalidSignature(PaymentError):
    """A webhook's signature does not match the body and our secret."""


def require_collected(info: PaymentIntentInfo) -> PaymentIntentInfo:
    """Pass a collected (`succeeded`) or pending (`processing`) PaymentIntent; raise for every other status.

    `requires_action` (localstripe) or the error code `authentication_required` (Stripe) means the backer must
    authenticate (`AuthenticationRequired`); any other status after a confirmation means the money was refused
    (`CardDeclined`). Both carry the PaymentIntent id.
    """
    if info.status in ("succeeded", "processing"):
        return info
    if info.status == "requires_action" or info.last_error_code == "authentication_required":
        raise AuthenticationRequired("The payment needs the backer's authentication.", payment_intent_id=info.id)
    raise CardDeclined(
        info.last_error_message or f"The payment ended in status {info.status}.",
        code=info.last_error_code,
        payment_intent_id=info.id,
    )


@runtime_checkable
class PaymentGateway(Protocol):
    """What the application needs from a payment provider. Every creating call takes an idempotency key."""

    def create_customer(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> CustomerRef:
        """Create a provider customer that saved payment methods belong to."""
        ...

    def create_setup_intent(
        self, *, customer_id: str, payment_method_types: list[str], metadata: Mapping[str, str], idempotency_key: str
    ) -> SetupIntentInfo:
        """Create a SetupIntent (usage off_session) that the browser confirms with Stripe.js."""
        ...

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        """Fetch a SetupIntent; the provider's word, never the browser's, decides whether it succeeded."""
        ...

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
        """Create and confirm an off-session PaymentIntent for a saved payment method.

        Returns only with status `succeeded` or `processing` (SEPA: the webhook decides later).
        Raises `AuthenticationRequired` when the backer must authenticate (3-D Secure), whichever way the
        provider says it; `CardDeclined` for any other failed payment; `ProviderUnavailable` when the outcome
        is unknown. Both "needs the backer" errors carry the PaymentIntent id when the provider created one.
        """
        ...

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
        """Create and confirm a PaymentIntent while the backer is on the page.

        Returns status `succeeded`, `processing`, or `requires_action`: then the page calls
        `stripe.confirmCardPayment(client_secret)` to run 3-D Secure. Raises `CardDeclined` on a decline.
        """
        ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Fetch a PaymentIntent as the provider sees it now."""
        ...

    def find_payment_intents(
        self, *, metadata_key: str, metadata_value: str, customer_id: str | None = None
    ) -> list[PaymentIntentInfo]:
        """List the PaymentIntents whose metadata has `metadata_key == metadata_value` (crash recovery).

        Read-after-write consistent (a plain listing, not the provider's eventually consistent search).
        `customer_id`, when given, narrows the listing.
        """
        ...

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount_cents: int | None,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> RefundInfo:
        """Refund a PaymentIntent in full (`amount_cents=None`) or in part."""
        ...

    def retrieve_refund(self, refund_id: str) -> RefundInfo:
        """Fetch a refund; localstripe sends no refund events, so re-fetch instead of waiting."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str, secret: str) -> WebhookEvent:
        """Verify the `Stripe-Signature` over the raw body and parse the event; raise `InvalidSignature`."""
        ...
