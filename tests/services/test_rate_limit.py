"""The provider rate limit: a token bucket shared by the sender threads (on a simulated clock: no timing in the
assertions), the shared hold after HTTP 429, and reading `Retry-After`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from crowdfund.services.rate_limit import (
    MAX_RETRY_AFTER_SECONDS,
    RateLimiter,
    parse_retry_after,
    rate_limit_backoff,
    rate_limited,
)
from payments.gateway import ProviderUnavailable


class Clock:
    """A simulated monotonic clock; `sleep` advances it and records the waits."""

    def __init__(self) -> None:
        self.now, self.sleeps, self.lock = 1_000.0, [], threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def start_times(limiter: RateLimiter, clock: Clock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        limiter.acquire()
        times.append(clock.now)
    return times


def test_the_bucket_paces_calls_at_the_rate_and_starts_without_a_burst():
    clock = Clock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)

    times = start_times(limiter, clock, 21)

    assert times[0] == 1_000.0  # the first call goes at once
    assert times[-1] - times[0] == pytest.approx(2.0)  # then 10 a second: 20 more take 2 s
    assert all(b - a == pytest.approx(0.1) for a, b in pairwise(times))


def test_after_a_stall_the_bucket_lets_the_run_catch_up_by_at_most_its_burst():
    clock = Clock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 3)
    clock.now += 30.0  # a slow batch boundary: the run fell behind

    times = start_times(limiter, clock, 15)

    assert times[:5] == [times[0]] * 5  # five at once (the burst) ...
    assert times[14] - times[4] == pytest.approx(1.0)  # ... then back to 10 a second
    window = [t for t in times if t < times[0] + 1.0]
    assert len(window) <= 5 + 10  # never more than burst + rate in any second


def test_without_a_limit_only_a_hold_makes_callers_wait():
    clock = Clock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert start_times(limiter, clock, 100) == [1_000.0] * 100 and clock.sleeps == []

    limiter.hold(7.0)
    limiter.acquire()

    assert clock.sleeps == [7.0]


def test_a_hold_stops_every_thread_and_no_burst_follows_it():
    clock = Clock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.hold(3.0)
    limiter.hold(1.0)  # a shorter hold never shortens the longer one

    times = start_times(limiter, clock, 3)

    assert times[0] >= 1_003.0
    assert times[1] - times[0] == pytest.approx(0.1) and times[2] - times[1] == pytest.approx(0.1)


def test_a_negative_rate_is_refused():
    with pytest.raises(ValueError):
        RateLimiter(-1)


def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("86400") == MAX_RETRY_AFTER_SECONDS
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("") is None


def test_backoff_without_retry_after_doubles_up_to_a_cap():
    assert [rate_limit_backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


class SdkError(Exception):
    """Shaped like the provider SDK's errors: an HTTP status and the response headers."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.http_status, self.headers = status, headers


def unavailable_from(cause: Exception) -> ProviderUnavailable:
    try:
        raise ProviderUnavailable("the provider is busy") from cause
    except ProviderUnavailable as error:
        return error


def test_a_429_is_recognised_through_the_adapter_error_with_its_retry_after():
    assert rate_limited(unavailable_from(SdkError(429, {"Retry-After": "3"}))) == (True, 3.0)
    assert rate_limited(unavailable_from(SdkError(429, {}))) == (True, None)
    assert rate_limited(unavailable_from(SdkError(503, {"Retry-After": "3"}))) == (False, None)
    assert rate_limited(ProviderUnavailable("timeout")) == (False, None)
