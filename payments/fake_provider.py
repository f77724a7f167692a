"""The provider-side mechanics of the fake gateway: ids, lost calls, idempotency replay, signed webhook events."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from payments import signing
from payments.gateway import (
    AuthenticationRequired,
    CardDeclined,
    InvalidRequest,
    PaymentError,
    ProviderUnavailable,
    WebhookEvent,
)
from payments.stripe_mapping import webhook_event

T = TypeVar("T")
When = Literal["before", "after"]


@dataclass
class _Failure:
    remaining: int
    when: When
    method: str | None


class SimulatedProvider:
    """Run calls the way a remote provider would: maybe lost, replayed by idempotency key, with events."""

    def __init__(self, *, honour_idempotency_keys: bool = True, clock: Callable[[], float] = time.time) -> None:
        self.honour_idempotency_keys, self.clock = honour_idempotency_keys, clock
        self.events: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self._sequence: Counter[str] = Counter()
        self._replies: dict[str, tuple[str, str, tuple[Any, PaymentError | None]]] = {}
        self._failures: list[_Failure] = []

    def fail_next(self, n: int = 1, *, when: When = "before", method: str | None = None) -> None:
        """Make the next `n` calls (of `method`, or of any method) raise `ProviderUnavailable`.

        `when="before"`: the provider never saw the call. `when="after"`: the provider acted (the PaymentIntent
        exists, the card was charged) but the response was lost: the case idempotency and recovery must cover.
        """
        self._failures.append(_Failure(n, when, method))

    def _next_id(self, prefix: str) -> str:
        self._sequence[prefix] += 1
        return f"{prefix}_fake_{self._sequence[prefix]:04d}"

    def _take_failure(self, method: str) -> When | None:
        for failure in self._failures:
            if failure.method in (None, method) and failure.remaining > 0:
                failure.remaining -= 1
                return failure.when
        return None

    def _run(self, method: str, key: str | None, params: Mapping[str, Any], effect: Callable[[], T]) -> T:
        """Apply failure injection and idempotency around one provider call."""
        self.calls.append(method)
        when = self._take_failure(method)
        if when == "before":
            raise ProviderUnavailable(f"fake: {method} failed before reaching the provider")
        result, error = self._idempotent(method, key, params, effect)
        if when == "after":
            raise ProviderUnavailable(f"fake: the response to {method} was lost")
        if error is not None:
            raise error
        return result

    def _idempotent(
        self, method: str, key: str | None, params: Mapping[str, Any], effect: Callable[[], Any]
    ) -> tuple[Any, PaymentError | None]:
        """Replay the first outcome of a key, as Stripe does; refuse the key with other parameters."""
        fingerprint = json.dumps(params, sort_keys=True, default=str)
        if key is not None and self.honour_idempotency_keys and key in self._replies:
            seen_method, seen_params, outcome = self._replies[key]
            if (seen_method, seen_params) != (method, fingerprint):
                return None, InvalidRequest(f"idempotency key {key!r} was used with other parameters")
            return outcome
        try:
            outcome = (effect(), None)
        except (CardDeclined, AuthenticationRequired) as error:
            outcome = (None, error)
        if key is not None:
            self._replies[key] = (method, fingerprint, outcome)
        return outcome

    # -- webhooks -------------------------------------------------------------------------------------------
    def _emit(self, type_: str, obj: Mapping[str, Any]) -> None:
        self.events.append(
            {"id": self._next_id("evt"), "object": "event", "type": type_, "created": int(self.clock()),
             "data": {"object": dict(obj)}}
        )  # fmt: skip

    def sign_webhook(self, payload: bytes, secret: str, timestamp: int | None = None) -> str:
        """Return a `Stripe-Signature` header for `payload`, as Stripe would send it."""
        return signing.sign(payload, secret, int(self.clock()) if timestamp is None else timestamp)

    def signed_event(self, event: Mapping[str, Any], secret: str) -> tuple[bytes, str]:
        """Serialise one of `events` and sign it: the body and header a webhook request would carry."""
        body = json.dumps(event, sort_keys=True).encode()
        return body, self.sign_webhook(body, secret)

    def parse_webhook(self, payload: bytes, signature_header: str, secret: str) -> WebhookEvent:
        """Verify with the same HMAC-SHA256 scheme as Stripe, then parse."""
        signing.verify(payload, signature_header, secret, now=self.clock())
        return webhook_event(payload)
