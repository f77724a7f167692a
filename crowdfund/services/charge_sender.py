"""Sending recorded charge attempts to the provider from a small pool of threads, under one shared rate limit.

The sender never decides anything about money: it only calls the provider for attempts that the caller has
already committed (with their idempotency keys) and whose charge locks the caller holds, and hands back what
the provider said. The caller must `close()` it (which waits for calls in flight) before letting go of those
locks, so that no other worker can look an attempt up while its call is still under way.

- HTTP 429: every sender pauses (`Retry-After` when the provider names it, else 0.5 s doubling up to 8 s) and
  the same request goes again with the same idempotency key: a 429 means it was not carried out.
- Outcome unknown (network error, 5xx): every sender pauses (0.1 s doubling up to 5 s); after
  `max_unavailable` of those in a row the sender stops: requests not yet sent come back as None (never sent),
  and the next run goes on."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from crowdfund.services import charges
from crowdfund.services.charges import ChargeRequest, ChargeResult, Outcome
from crowdfund.services.rate_limit import RateLimiter, rate_limit_backoff
from payments.gateway import PaymentGateway

BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.1, 5.0
#: How often one request is sent again after HTTP 429 before its outcome counts as unknown.
MAX_RATE_LIMITED_TRIES = 5


class ChargeSender:
    """Send charges for recorded attempts with `concurrency` threads sharing `limiter`."""

    def __init__(self, gateway: PaymentGateway, limiter: RateLimiter, *, concurrency: int = 1,
                 max_unavailable: int = 5) -> None:
        self.gateway, self.limiter, self.max_unavailable = gateway, limiter, max_unavailable
        self.concurrency = max(1, int(concurrency))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.unavailable_in_a_row = 0
        self.rate_limited = 0  # 429 answers met (each one waited for and sent again)
        self.stopped = False  # too many unknown outcomes in a row, or a call crashed: send nothing more

    def submit(self, request: ChargeRequest) -> Future[ChargeResult | None]:
        """Queue one request; its future gives the provider's answer, or None if it was never sent."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="settle-send")
        return self._pool.submit(self._send_queued, request)

    def send(self, request: ChargeRequest) -> ChargeResult:
        """Send one request in the caller's thread (recovery), with the same pacing and backoff; sent even
        after the sender stopped (recovery finishes what it looked up), and counted toward the stop."""
        result = self._send(request, even_if_stopped=True)
        assert result is not None
        return result

    def close(self) -> None:
        """Drop what is still queued and wait for the calls in flight to come back."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _send_queued(self, request: ChargeRequest) -> ChargeResult | None:
        if self.stopped:
            return None
        if not (request.customer_id and request.payment_method_id):
            return ChargeResult(Outcome.NEEDS_BACKER, error_code="no_payment_method")
        try:
            return self._send(request)
        except BaseException:
            self.stopped = True  # a crash: whatever is queued behind it stays unsent (the caller re-raises)
            raise

    def _send(self, request: ChargeRequest, *, even_if_stopped: bool = False) -> ChargeResult | None:
        tries = 0
        while True:
            self.limiter.acquire()
            if self.stopped and not even_if_stopped:
                return None
            result = charges.send_charge(self.gateway, request)
            if not (result.rate_limited and tries < MAX_RATE_LIMITED_TRIES):
                break
            tries += 1
            with self._lock:
                self.rate_limited += 1
            self.limiter.hold(result.retry_after if result.retry_after is not None else rate_limit_backoff(tries))
        self._count(result)
        return result

    def _count(self, result: ChargeResult) -> None:
        with self._lock:
            if result.outcome != Outcome.UNKNOWN:
                self.unavailable_in_a_row = 0
                return
            self.unavailable_in_a_row += 1
            if self.unavailable_in_a_row >= self.max_unavailable:
                self.stopped = True
            backoff = min(BACKOFF_SECONDS * 2 ** (self.unavailable_in_a_row - 1), MAX_BACKOFF_SECONDS)
        self.limiter.hold(backoff)
