"""Two settlements at once on PostgreSQL (SKIP LOCKED claims, advisory charge locks): never a second
PaymentIntent for a pledge, whether the runs overlap in threads, meet a charge in flight, or are two
`flask --app wsgi settle` processes against localstripe."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crowdfund.models.pledges import Pledge
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backers, make_campaign_world, make_due_campaign

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def on_postgresql(app):
    assert app.extensions["db_engine"].dialect.name == "postgresql", "run with TEST_DATABASE_URL=postgresql://..."


class SharedProvider:
    """The fake provider shared by two threads: one call at a time (like one provider), each a little slow."""

    def __init__(self, inner: FakeGateway, delay: float = 0.003) -> None:
        self.inner, self.delay, self.lock = inner, delay, threading.Lock()

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            time.sleep(self.delay)
            with self.lock:
                return method(*args, **kwargs)

        return call


def funded(session, fake, n: int, **options):
    """A campaign already decided (funded), so that concurrent runs meet in the charging itself."""
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000, state="funded")
    return [make_active_pledge(session, project, backer, 1_000, fake, **options) for backer in make_backers(session, n)]


def in_threads(*targets) -> list:
    results: list = [None] * len(targets)
    errors: list[BaseException] = []

    def runner(i, target):
        try:
            results[i] = target()
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_settlements_in_threads_charge_every_pledge_exactly_once(app, session):
    fake = FakeGateway(honour_idempotency_keys=False)
    pledges = funded(session, fake, 40)
    provider, factory = SharedProvider(fake), app.extensions["db_sessionmaker"]
    start = threading.Barrier(2)

    def one_run():
        start.wait(10)
        return settle(factory, provider, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None,
                      batch_size=4)

    first, second = in_threads(one_run, one_run)

    assert first.charged + second.charged == 40
    assert first.charged > 0 and second.charged > 0  # they really ran side by side
    assert [fake.payment_intents_created[str(p.id)] for p in pledges] == [1] * 40
    assert set(session.scalars(select(Pledge.status))) == {"paid"}


def test_a_second_run_leaves_a_charge_in_flight_alone(app, session):
    fake = FakeGateway(honour_idempotency_keys=False)
    pledges = funded(session, fake, 3)
    entered, go_on = threading.Event(), threading.Event()

    class SlowFirstCharge:
        """The first run's first charge hangs before it reaches the provider, its attempt committed."""

        def __getattr__(self, name):
            return getattr(fake, name)

        def charge_off_session(self, **kwargs):
            if not entered.is_set():
                entered.set()
                assert go_on.wait(30)
            return fake.charge_off_session(**kwargs)

    factory = app.extensions["db_sessionmaker"]
    reports: list = []

    def first_run():
        reports.append(settle(factory, SlowFirstCharge(), now=datetime.now(UTC), fix_window_days=7,
                              notify=lambda n: None, batch_size=1))

    thread = threading.Thread(target=first_run)
    thread.start()
    assert entered.wait(30)
    try:
        # Another run meanwhile: the hanging pledge is `charging` with an attempt of unknown outcome, the kind a
        # crash leaves. Without the lock it would find no PaymentIntent yet and create one.
        second = settle(factory, fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    finally:
        go_on.set()
        thread.join(30)

    # The first run claims ahead (the next batch goes to the provider while one is recorded), so it may hold
    # the second pledge as well; the third is free for the second run either way.
    assert second.recovered == 0 and second.charged >= 1 and reports[0].charged + second.charged == 3
    assert [fake.payment_intents_created[str(p.id)] for p in pledges] == [1, 1, 1]
    session.expire_all()
    assert [session.get(Pledge, p.id).status for p in pledges] == ["paid"] * 3


def test_two_settle_processes_at_once_make_one_payment_intent_per_pledge_at_localstripe(
        app, session, database_url, localstripe, stripe_gateway, tmp_path):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledges = [make_active_pledge(session, project, backer, 1_000, stripe_gateway, localstripe_url=localstripe)
               for backer in make_backers(session, 24)]
    env = {**os.environ, "CROWDFUND_ENV": "test", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
           "STRIPE_SECRET_KEY": "sk_test_localstripe", "STRIPE_API_BASE": localstripe}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "settle"]

    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    counts = [len(stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value=str(p.id)))
              for p in pledges]
    assert counts == [1] * 24
    session.expire_all()
    assert {session.get(Pledge, p.id).status for p in pledges} == {"paid"}
