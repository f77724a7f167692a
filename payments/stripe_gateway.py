"""The Stripe adapter: the only module that imports `stripe`. Talks to real Stripe or to localstripe.

With `api_base` empty it talks to api.stripe.com; with `api_base` set (localstripe) it leaves out every
parameter localstripe rejects with HTTP 400 (`description`, `reason`, `use_stripe_sdk`, ...) and it does
not retry on its own: localstripe ignores Idempotency-Key, so a retried POST could create a second object.
Every creating call still sends an idempotency key, which real Stripe honours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from payments.gateway import (
    PAYMENT_METHOD_TYPES,
    AuthenticationRequired,
    CardDeclined,
    CustomerRef,
    InvalidRequest,
    InvalidSignature,
    PaymentError,
    PaymentIntentInfo,
    ProviderUnavailable,
    RefundInfo,
    SetupIntentInfo,
    WebhookEvent,
    require_collected,
)
from payments.stripe_mapping import object_id, payment_intent_info, refund_info, setup_intent_info, webhook_event
from payments.units import normalize_currency, to_provider_units

T = TypeVar("T")
REAL_STRIPE_RETRIES = 2
PAGE_SIZE = 100


def translate_error(error: stripe.StripeError) -> PaymentError:
    """Map a Stripe SDK error (other than a card error) onto the gateway's error contract."""
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.SignatureVerificationError):
        return InvalidSignature(message)
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return ProviderUnavailable(message)
    if isinstance(error, stripe.APIError):
        status = error.http_status
        unknown = status is None or status >= 500 or status == 409  # 409: a request with that key is in flight
        return ProviderUnavailable(message) if unknown else InvalidRequest(message)
    if isinstance(error, stripe.InvalidRequestError | stripe.IdempotencyError):
        return InvalidRequest(message)
    return PaymentError(message)  # authentication/permission: our configuration is wrong


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


class StripeGateway:
    """`PaymentGateway` over the Stripe API (real Stripe, or localstripe through `api_base`)."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int | None = None,
        timeout_seconds: float = 30.0,
        webhook_tolerance_seconds: int = 300,
    ) -> None:
        if not api_key:
            raise ValueError("a Stripe secret key is required")
        base = (api_base or "").rstrip("/")
        self.real_stripe = base in ("", stripe.DEFAULT_API_BASE)
        retries = (
            max_network_retries if max_network_retries is not None else (REAL_STRIPE_RETRIES if self.real_stripe else 0)
        )
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": base} if base else None,
            max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """Build the gateway from `STRIPE_SECRET_KEY`, `STRIPE_API_BASE` (empty base: real Stripe) and
        `STRIPE_TIMEOUT_SECONDS`."""
        return cls(config["STRIPE_SECRET_KEY"], api_base=config.get("STRIPE_API_BASE") or None,
                   timeout_seconds=float(config.get("STRIPE_TIMEOUT_SECONDS") or 10.0))

    # -- plumbing -------------------------------------------------------------------------------------------
    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except stripe.CardError as error:
            raise self._card_failure(error) from error
        except stripe.StripeError as error:
            raise translate_error(error) from error

    def _card_failure(self, error: stripe.CardError) -> PaymentError:
        detail = error.error.to_dict() if error.error else {}
        pi_id = object_id(detail.get("payment_intent")) or self._payment_intent_of_charge(detail.get("charge"))
        message = detail.get("message") or str(error)
        if error.code == "authentication_required":
            return AuthenticationRequired(message, payment_intent_id=pi_id)
        return CardDeclined(message, code=error.code, decline_code=detail.get("decline_code"), payment_intent_id=pi_id)

    def _payment_intent_of_charge(self, charge_id: str | None) -> str | None:
        """Find the PaymentIntent of a failed charge (localstripe's decline error does not name it)."""
        if not charge_id:
            return None
        try:
            return object_id(self._client.v1.charges.retrieve(charge_id).to_dict().get("payment_intent"))
        except stripe.StripeError:
            return None  # best effort: the caller can still find it by metadata

    def _real_only(self, params: dict[str, Any], **extras: Any) -> dict[str, Any]:
        """Add parameters that only real Stripe accepts (localstripe answers 400 to unknown ones)."""
        if self.real_stripe:
            params.update({k: v for k, v in extras.items() if v is not None})
        return params

    # -- customers and setup intents --------------------------------------------------------------------------
    def create_customer(
        self, *, email: str, name: str, idempotency_key: str, metadata: Mapping[str, str] | None = None
    ) -> CustomerRef:
        """Create a customer; the idempotency key makes a retried call return the same one on Stripe."""
        params = {"email": email, "name": name, "metadata": _strings(metadata)}
        customer = self._call(
            lambda: self._client.v1.customers.create(params=params, options={"idempotency_key": idempotency_key})
        )
        return CustomerRef(customer.id)

    def create_setup_intent(
        self, *, customer_id: str, payment_method_types: list[str], metadata: Mapping[str, str], idempotency_key: str
    ) -> SetupIntentInfo:
        """Create an off-session SetupIntent for the browser to confirm with Stripe.js."""
        if not payment_method_types or not set(payment_method_types) <= PAYMENT_METHOD_TYPES:
            raise InvalidRequest(f"payment method types must be among {sorted(PAYMENT_METHOD_TYPES)}")
        params = {
            "customer": customer_id,
            "payment_method_types": list(payment_method_types),
            "usage": "off_session",
            "metadata": _strings(metadata),
        }
        si = self._call(
            lambda: self._client.v1.setup_intents.create(params=params, options={"idempotency_key": idempotency_key})
        )
        return setup_intent_info(si.to_dict())

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        """Fetch a SetupIntent with its payment method expanded (for the method's type)."""
        si = self._call(
            lambda: self._client.v1.setup_intents.retrieve(setup_intent_id, params={"expand": ["payment_method"]})
        )
        return setup_intent_info(si.to_dict())

    # -- payment intents ----------------------------------------------------------------------------------
    def _payment_params(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_cents: int,
        currency: str,
        metadata: Mapping[str, str],
        payment_method_type: str,
    ) -> dict[str, Any]:
        if payment_method_type not in PAYMENT_METHOD_TYPES:
            raise InvalidRequest(f"unknown payment method type {payment_method_type!r}")
        return {
            "amount": to_provider_units(amount_cents, currency),
            "currency": normalize_currency(currency),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "payment_method_types": [payment_method_type],
            "metadata": _strings(metadata),
        }

    def _create_payment_intent(self, params: dict[str, Any], idempotency_key: str) -> PaymentIntentInfo:
        pi = self._call(
            lambda: self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        )
        return payment_intent_info(pi.to_dict())

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
        """Charge a saved method without the backer: `succeeded`/`processing`, or raise (see the protocol).

        localstripe leaves a 3-D Secure PaymentIntent in `requires_action` where real Stripe raises
        `authentication_required`: both come out as `AuthenticationRequired` with the PaymentIntent id.
        """
        params = self._payment_params(
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            amount_cents=amount_cents,
            currency=currency,
            metadata=metadata,
            payment_method_type=payment_method_type,
        )
        params["off_session"] = True
        info = self._create_payment_intent(self._real_only(params, description=description), idempotency_key)
        return require_collected(info)

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
        """Charge a method with the backer present; `requires_action` goes back to the page for 3-D Secure."""
        params = self._payment_params(
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            amount_cents=amount_cents,
            currency=currency,
            metadata=metadata,
            payment_method_type=payment_method_type,
        )
        params = self._real_only(params, description=description, use_stripe_sdk=True)
        info = self._create_payment_intent(params, idempotency_key)
        if info.status == "requires_payment_method":
            raise CardDeclined(
                info.last_error_message or "The payment failed.", code=info.last_error_code, payment_intent_id=info.id
            )
        return info

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Fetch a PaymentIntent as Stripe sees it now."""
        pi = self._call(lambda: self._client.v1.payment_intents.retrieve(payment_intent_id))
        return payment_intent_info(pi.to_dict())

    def find_payment_intents(
        self, *, metadata_key: str, metadata_value: str, customer_id: str | None = None
    ) -> list[PaymentIntentInfo]:
        """List PaymentIntents and keep those with the metadata value (Stripe's search lags up to a minute).

        Real Stripe filters by customer on the server; localstripe rejects that filter, so the customer is
        always checked here as well.
        """
        params = self._real_only({"limit": PAGE_SIZE}, customer=customer_id)

        def matching() -> list[PaymentIntentInfo]:
            pages = self._client.v1.payment_intents.list(params=params).auto_paging_iter()
            infos = (payment_intent_info(pi.to_dict()) for pi in pages)
            return [
                i
                for i in infos
                if i.metadata.get(metadata_key) == metadata_value
                and (customer_id is None or i.customer_id == customer_id)
            ]

        return self._call(matching)

    # -- refunds and webhooks -----------------------------------------------------------------------------
    def refund(
        self,
        *,
        payment_intent_id: str,
        amount_cents: int | None,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> RefundInfo:
        """Refund a PaymentIntent in full or in part (the currency is read from the PaymentIntent)."""
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": _strings(metadata)}
        if amount_cents is not None:
            currency = self.retrieve_payment_intent(payment_intent_id).currency
            params["amount"] = to_provider_units(amount_cents, currency)
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                params=self._real_only(params, reason=reason), options={"idempotency_key": idempotency_key}
            )
        )
        return refund_info(refund.to_dict())

    def retrieve_refund(self, refund_id: str) -> RefundInfo:
        """Fetch a refund (localstripe sends no refund events)."""
        return refund_info(self._call(lambda: self._client.v1.refunds.retrieve(refund_id)).to_dict())

    def parse_webhook(self, payload: bytes, signature_header: str, secret: str) -> WebhookEvent:
        """Verify the signature over the raw body with Stripe's own check; raise `InvalidSignature`."""
        if not secret:
            raise InvalidSignature("no webhook secret configured")
        try:
            self._client.construct_event(payload, signature_header, secret, self.webhook_tolerance_seconds)
        except stripe.SignatureVerificationError as error:
            raise InvalidSignature(str(error)) from error
        except ValueError as error:  # not JSON, or not an event
            raise InvalidSignature(f"not a Stripe event: {error}") from error
        return webhook_event(payload)
