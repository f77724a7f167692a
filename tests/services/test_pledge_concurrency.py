"""Pledges racing for a limited reward on PostgreSQL, each thread in its own session and transaction.

PostgreSQL only (row locks): run with TEST_DATABASE_URL=postgresql://... and `-m postgres`."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from crowdfund.db import normalize_url
from crowdfund.domain.pledges import HOLDS_REWARD
from crowdfund.forms.pledges import PROBLEMS
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from crowdfund.services import pledges
from crowdfund.services.pledges import PledgeRules
from payments.fake import FakeGateway
from tests.factories import make_backers, make_pledge_world, make_reward

pytestmark = [pytest.mark.postgres]
RULES = PledgeRules(min_cents=100, max_cents=1_000_000, payment_method_types=("card",))


class SerialGateway:
    """The fake gateway behind a lock: it is one remote provider that many threads talk to."""

    def __init__(self) -> None:
        self._fake, self._lock = FakeGateway(), threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._fake, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


@pytest.fixture
def factory(app):
    engine = app.extensions["db_engine"]
    assert engine.dialect.name == "postgresql", (
        "These tests need PostgreSQL row locks: set TEST_DATABASE_URL=postgresql://... (they are marked "
        "`postgres`; leave them out of the SQLite run with -m 'not postgres')."
    )
    return app.extensions["db_sessionmaker"]


def race(factory, jobs: list[Callable[[Any], object]]) -> Counter[str]:
    """Run every job in its own thread and session at the same moment; count outcomes by name."""
    barrier, outcomes, lock = threading.Barrier(len(jobs)), Counter(), threading.Lock()

    def run(job: Callable[[Any], object]) -> None:
        session = factory()
        try:
            barrier.wait(10)
            job(session)
            session.commit()
            outcome = "ok"
        except pledges.PledgeError as error:
            session.rollback()
            outcome = type(error).__name__
        except Exception as error:  # anything else leaked: counted by name, so the assertion shows it
            session.rollback()
            outcome = f"LEAKED {type(error).__name__}: {error}"
        finally:
            session.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def pledge_job(gateway, project_id: int, backer_id: int, reward_id: int | None, amount: int = 2_500):
    def job(session) -> None:
        from crowdfund.models.projects import Project
        from crowdfund.models.users import User

        pledges.start_pledge(
            session, gateway, project=session.get(Project, project_id), backer=session.get(User, backer_id),
            amount_cents=amount, reward_id=reward_id, anonymous=False, message="", payment_method_type="card",
            now=datetime.now(UTC), rules=RULES)

    return job


def cancel_job(pledge_id: int):
    def job(session) -> None:
        pledge = session.get(Pledge, pledge_id)
        pledges.cancel_pledge(session, pledge, actor_id=pledge.backer_id, now=datetime.now(UTC))

    return job


def change_job(pledge_id: int, reward_id: int):
    def job(session) -> None:
        pledge = session.get(Pledge, pledge_id)
        pledges.change_pledge(session, pledge, amount_cents=2_500, reward_id=reward_id, now=datetime.now(UTC),
                              rules=RULES, actor_id=pledge.backer_id)

    return job


def holding(session, reward_id: int) -> tuple[int, int]:
    """Return (the reward's claimed count, the pledges that hold a unit of it)."""
    session.expire_all()
    held = session.scalar(select(func.count()).select_from(Pledge).where(
        Pledge.reward_id == reward_id, Pledge.status.in_(sorted(HOLDS_REWARD))))
    return session.get(Reward, reward_id).quantity_claimed, held


def test_twenty_backers_racing_for_five_units_leave_exactly_five_pledges(session, factory):
    _world, project, reward, _backer = make_pledge_world(session, quantity_total=5)
    gateway = SerialGateway()
    backers = make_backers(session, 20)
    outcomes = race(factory, [pledge_job(gateway, project.id, b.id, reward.id) for b in backers])
    assert outcomes == {"ok": 5, "RewardSoldOut": 15}, outcomes
    assert holding(session, reward.id) == (5, 5)


@pytest.fixture
def wide_factory(app, factory):
    """Sessions on an engine with a connection for each of 50 threads: all 50 transactions really overlap
    (the app's pool of 10 would queue most of them)."""
    engine = create_engine(normalize_url(app.config["DATABASE_URL"]), pool_size=55, max_overflow=0,
                           pool_timeout=60)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def test_fifty_backers_racing_for_the_last_ten_units_leave_exactly_ten_new_pledges(app, session, wide_factory):
    """The issue's case: 50 concurrent pledges on a reward with 10 left; exactly 10 succeed, the other 40 get
    the clear sold-out error and leave nothing behind."""
    _world, project, reward, _backer = make_pledge_world(session, quantity_total=13)
    gateway = SerialGateway()
    earlier = make_backers(session, 3)
    assert race(wide_factory, [pledge_job(gateway, project.id, b.id, reward.id) for b in earlier]) == {"ok": 3}
    assert holding(session, reward.id) == (3, 3) and session.get(Reward, reward.id).quantity_left == 10
    racers = make_backers(session, 50)
    refusals: list[pledges.PledgeInvalid] = []

    def noting(job):
        def run(job_session) -> None:
            try:
                job(job_session)
            except pledges.RewardSoldOut as error:
                refusals.append(error)
                raise

        return run

    outcomes = race(wide_factory, [noting(pledge_job(gateway, project.id, b.id, reward.id)) for b in racers])

    assert outcomes == {"ok": 10, "RewardSoldOut": 40}, outcomes
    assert holding(session, reward.id) == (13, 13) and session.get(Reward, reward.id).quantity_left == 0
    new = session.scalars(select(Pledge).where(Pledge.backer_id.in_([b.id for b in racers]))).all()
    assert len(new) == 10 and {p.status for p in new} == {"pending_setup"} and {p.reward_id for p in new} == {
        reward.id}
    assert len(refusals) == 40 and all(e.errors == {"reward_id": "sold_out"} for e in refusals)
    with app.test_request_context(headers={"Accept-Language": "en"}):  # what the pledge form says
        assert str(PROBLEMS[refusals[0].errors["reward_id"]]) == "This reward is sold out. Please choose another one."


def test_cancellations_racing_with_new_pledges_never_oversell(session, factory):
    _world, project, reward, _backer = make_pledge_world(session, quantity_total=5)
    gateway = SerialGateway()
    first, later = make_backers(session, 5), make_backers(session, 15)
    assert race(factory, [pledge_job(gateway, project.id, b.id, reward.id) for b in first]) == {"ok": 5}
    held = session.scalars(select(Pledge.id).where(Pledge.reward_id == reward.id)).all()
    jobs = [cancel_job(pid) for pid in held] + [pledge_job(gateway, project.id, b.id, reward.id) for b in later]
    outcomes = race(factory, jobs)
    claimed, holders = holding(session, reward.id)
    assert set(outcomes) <= {"ok", "RewardSoldOut"}, outcomes
    assert outcomes["ok"] == 5 + claimed  # every cancel succeeded; each new pledge found a freed unit
    assert claimed == holders <= 5


def test_pledges_swapping_rewards_in_both_directions_do_not_deadlock(session, factory):
    _world, project, first, _backer = make_pledge_world(session, quantity_total=10)
    second = make_reward(session, project, title="Poster", min_amount_cents=2_000, quantity_total=10)
    gateway = SerialGateway()
    backers = make_backers(session, 10)
    jobs = [pledge_job(gateway, project.id, b.id, (first if i % 2 else second).id) for i, b in enumerate(backers)]
    assert race(factory, jobs) == {"ok": 10}
    rows = session.execute(select(Pledge.id, Pledge.reward_id).order_by(Pledge.id)).all()
    swaps = [change_job(pid, second.id if rid == first.id else first.id) for pid, rid in rows]
    assert race(factory, swaps) == {"ok": 10}
    assert holding(session, first.id) == (5, 5) and holding(session, second.id) == (5, 5)


def test_one_backer_submitting_twice_at_once_gets_one_pledge(session, factory):
    _world, project, reward, backer = make_pledge_world(session, quantity_total=5)
    gateway = SerialGateway()
    outcomes = race(factory, [pledge_job(gateway, project.id, backer.id, reward.id) for _ in range(4)])
    assert outcomes == {"ok": 1, "PledgeExists": 3}, outcomes
    assert holding(session, reward.id) == (1, 1)
