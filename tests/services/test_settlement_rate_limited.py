"""HTTP 429 from the provider during settlement, through the real Stripe adapter against a tiny local stub of
`POST /v1/payment_intents` (localstripe never answers 429): every sender waits as long as `Retry-After` says
(or backs off when it says nothing), then the same request goes again with the same idempotency key; one
PaymentIntent per pledge. The waits run on a simulated clock: nothing here depends on timing."""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services import charge_sender
from crowdfund.services.rate_limit import RateLimiter
from crowdfund.services.settlement import settle
from payments.stripe_gateway import StripeGateway
from tests.factories import make_backers, make_campaign_world, make_due_campaign, make_pledge


class StubStripe(ThreadingHTTPServer):
    """Answers PaymentIntent creates: the next `answers` (429 with an optional Retry-After) first, then success."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.answers: list[tuple[int, str | None]] = []
        self.keys: dict[str, list[str]] = defaultdict(list)  # pledge id -> Idempotency-Key of every request
        self.created: Counter[str] = Counter()  # pledge id -> PaymentIntents created

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StubStripe

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # the listing a lookup makes: nothing was lost here
        self._reply(200, {"object": "list", "data": [], "has_more": False, "url": "/v1/payment_intents"})

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        pledge = form["metadata[pledge_id]"][0]
        stub = self.server
        with stub.lock:
            stub.keys[pledge].append(self.headers.get("Idempotency-Key", ""))
            status, retry_after = stub.answers.pop(0) if stub.answers else (200, None)
            if status == 200:
                stub.created[pledge] += 1
                number = sum(stub.created.values())
        if status == 429:
            error = {"error": {"type": "invalid_request_error", "code": "rate_limit",
                               "message": "Too many requests hit the API too quickly."}}
            self._reply(429, error, {"Retry-After": retry_after} if retry_after else None)
            return
        self._reply(200, {
            "id": f"pi_stub_{number}", "object": "payment_intent", "status": "succeeded",
            "amount": int(form["amount"][0]), "currency": form["currency"][0], "customer": form["customer"][0],
            "payment_method": form["payment_method"][0], "latest_charge": f"ch_stub_{number}",
            "client_secret": f"pi_stub_{number}_secret", "last_payment_error": None,
            "metadata": {k[len("metadata["):-1]: v[0] for k, v in form.items() if k.startswith("metadata[")}})


@pytest.fixture
def stub() -> Iterator[StubStripe]:
    server = StubStripe()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


class Clock:
    """A simulated monotonic clock; `sleep` advances it and records the waits."""

    def __init__(self) -> None:
        self.now, self.sleeps = 100.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def due_pledges(session, n: int) -> list[Pledge]:
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledges = []
    for backer in make_backers(session, n):
        pledge = make_pledge(session, project, backer, 2_000, status="active")
        pledge.customer_id, pledge.payment_method_id, pledge.payment_method_type = "cus_stub", "pm_card_visa", "card"
        pledges.append(pledge)
    session.commit()
    return pledges


def run(app, stub: StubStripe, clock: Clock, **options):
    gateway = StripeGateway("sk_test_stub", api_base=stub.url)
    return settle(app.extensions["db_sessionmaker"], gateway, now=datetime.now(UTC), fix_window_days=7,
                  notify=lambda notice: None, limiter=RateLimiter(0, clock=clock, sleep=clock.sleep), **options)


def test_a_429_makes_the_senders_wait_as_asked_and_send_the_same_request_again(app, session, stub):
    pledges = due_pledges(session, 3)
    stub.answers = [(429, "7"), (429, None)]  # the first request: twice too many, once with Retry-After
    clock = Clock()

    report = run(app, stub, clock)

    assert clock.sleeps == [7.0, 1.0]  # Retry-After honoured; then the backoff (0.5 s doubling: the 2nd try)
    assert report.rate_limited == 2 and "too many requests' 2 time(s)" in report.summary()
    assert (report.charged, report.unknown, report.errors) == (3, 0, [])
    first = str(pledges[0].id)
    assert stub.keys[first] == [f"pledge-{first}-charge-1"] * 3  # the same idempotency key every time
    assert stub.created == Counter({str(p.id): 1 for p in pledges})  # one PaymentIntent per pledge
    session.expire_all()
    assert {session.get(Pledge, p.id).status for p in pledges} == {"paid"}
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "charge")).all()) == 3


def test_429_with_several_sender_threads_still_charges_each_pledge_once(app, session, stub):
    pledges = due_pledges(session, 12)
    stub.answers = [(429, "2"), (429, "2"), (429, None)]

    report = run(app, stub, Clock(), concurrency=3, batch_size=5)

    assert report.rate_limited == 3 and report.charged == 12
    assert stub.created == Counter({str(p.id): 1 for p in pledges})
    assert all(len(set(keys)) == 1 for keys in stub.keys.values())


def test_a_request_still_refused_after_every_retry_is_left_unknown_and_looked_up_next_run(app, session, stub,
                                                                                        monkeypatch):
    monkeypatch.setattr(charge_sender, "MAX_RATE_LIMITED_TRIES", 2)
    pledges = due_pledges(session, 1)
    stub.answers = [(429, "1")] * 3

    first = run(app, stub, Clock())

    assert (first.unknown, first.charged, first.rate_limited) == (1, 0, 2) and stub.created == Counter()
    second = run(app, stub, Clock())

    assert (second.recovered, second.charged) == (1, 1)
    assert stub.created == Counter({str(pledges[0].id): 1})
