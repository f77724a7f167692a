"""Pacing calls to the payment provider: a token bucket shared by the threads that send, and a shared hold
that every sender respects after the provider answered HTTP 429 (Too Many Requests) or was unavailable.

Real Stripe allows about 100 writes per second in live mode (25 in test mode) and answers 429 beyond that,
sometimes with a `Retry-After` header. A 429 means the request was not carried out, so it may be sent again
with the same idempotency key once the wait is over."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: Longest `Retry-After` honoured as asked; a longer one is cut to this.
MAX_RETRY_AFTER_SECONDS = 60.0
#: Waits after a 429 without `Retry-After`: 0.5 s, doubling, at most 8 s.
RATE_LIMIT_BACKOFF_SECONDS, MAX_RATE_LIMIT_BACKOFF_SECONDS = 0.5, 8.0


def default_burst(per_second: float) -> float:
    """How many calls a limited run may catch up at once after a stall: a tenth of a second's worth, 1 to 10."""
    return max(1.0, min(per_second / 10.0, 10.0))


class RateLimiter:
    """A token bucket of `per_second` calls (0: no limit) holding at most `burst` tokens, safe to share
    between threads: `acquire()` before every call blocks until the call may go.

    Each caller takes its token at once (the bucket may go into debt) and sleeps outside the lock until its
    turn, so waiting threads are served in the order they came and never spin. The bucket starts with a single
    token: over any stretch of T seconds at most `burst + per_second * T` calls go out, and on average the
    run keeps to the limit instead of losing the time between two batches (as a minimum gap between calls
    would). `hold(seconds)` stops every sender until then (HTTP 429, provider unavailable)."""

    def __init__(self, per_second: float = 0.0, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if per_second < 0:
            raise ValueError("per_second must not be negative")
        self.per_second = float(per_second)
        self.burst = max(1.0, burst if burst is not None else default_burst(self.per_second))
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._tokens = 1.0
        self._updated = clock()
        self._hold_until = float("-inf")
        self._generation = 0
        self.holds = 0

    def acquire(self) -> None:
        """Wait until one more call may go out, then return (the token is taken)."""
        while True:
            with self._lock:
                start = max(self._clock(), self._hold_until)
                generation, ready = self._generation, start
                if self.per_second > 0:
                    self._refill(start)
                    self._tokens -= 1.0
                    if self._tokens < 0:
                        ready = start - self._tokens / self.per_second
            wait = ready - self._clock()
            if wait <= 0:
                return
            self._sleep(wait)
            with self._lock:
                if generation == self._generation:
                    return
            # a hold came while this caller waited: its place is void, it queues again behind the hold

    def hold(self, seconds: float) -> None:
        """Stop every sender for `seconds` from now (a later hold may extend it, never shorten it). Callers
        already waiting queue again behind it, and no burst follows: when it ends, one call may go at once and
        the rest at the rate."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._hold_until:
                self._hold_until = until
            self._generation += 1
            self.holds += 1
            self._tokens, self._updated = 1.0, self._hold_until

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
            self._updated = now


def rate_limit_backoff(tries: int) -> float:
    """Seconds to wait after the `tries`-th 429 in a row that named no `Retry-After`."""
    return min(RATE_LIMIT_BACKOFF_SECONDS * 2 ** max(0, tries - 1), MAX_RATE_LIMIT_BACKOFF_SECONDS)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a `Retry-After` header: delay seconds or an HTTP date; None if absent or unreadable. The result
    lies between 0 and MAX_RETRY_AFTER_SECONDS."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def rate_limited(error: BaseException) -> tuple[bool, float | None]:
    """Tell whether a provider error was an HTTP 429, and the `Retry-After` it named (seconds, or None).

    Looks at the error and at the provider SDK's error it was raised from (`__cause__`: the Stripe adapter
    maps `stripe.RateLimitError` onto `ProviderUnavailable`), by their `http_status` and `headers`, or a
    `retry_after` attribute, without importing the SDK."""
    for candidate in (error, error.__cause__):
        if candidate is None:
            continue
        status = getattr(candidate, "http_status", None)
        if status == 429 or type(candidate).__name__ == "RateLimitError":
            retry_after = getattr(candidate, "retry_after", None)
            if isinstance(retry_after, int | float):
                return True, min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_SECONDS)
            return True, parse_retry_after(_header(getattr(candidate, "headers", None), "retry-after"))
    return False, None
