"""A matching pot running dry under concurrency (PostgreSQL row locks): threads with sessions of their own
reserve at once, and the pot never gives more than its budget or a cap, nor matches a pledge twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.pledges import Pledge
from crowdfund.services import matching
from crowdfund.services.matching import PotData, PotInvalid
from tests.factories import make_backers, make_campaign, make_campaign_world, make_pledge
from tests.services.test_matching import make_pot

pytestmark = pytest.mark.postgres

THREADS = 30


@pytest.fixture(autouse=True)
def _postgresql_only(session):
    assert session.get_bind().dialect.name == "postgresql", "row-lock tests need TEST_DATABASE_URL (PostgreSQL)"


@pytest.fixture
def project(session):
    world = make_campaign_world(session)
    return make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)


def run_at_once(app, jobs: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each job in a thread of its own with a session of its own, all released together.

    Each job runs inside one transaction, committed when it returns."""
    start = threading.Barrier(len(jobs))
    sessionmaker = app.extensions["db_sessionmaker"]

    def run(job: Callable[[Any], Any]) -> Any:
        start.wait(timeout=30)
        with sessionmaker() as own, own.begin():
            return job(own)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def reserving(pledge_id: int) -> Callable[[Any], bool]:
    return lambda own: matching.reserve_match(own, own.get(Pledge, pledge_id)) is not None


def held(session, pot_id: int) -> int:
    stmt = select(func.coalesce(func.sum(Match.amount_cents), 0)).where(
        Match.pot_id == pot_id, Match.status.in_(matching.HOLDING))
    return int(session.scalar(stmt))


def test_thirty_pledges_at_once_against_a_budget_for_seven_get_exactly_seven_matches(app, session, project):
    pot = make_pot(session, budget_cents=7 * 10_000)
    pledges = [make_pledge(session, project, b, 10_000) for b in make_backers(session, THREADS)]
    results = run_at_once(app, [reserving(p.id) for p in pledges])
    session.expire_all()
    assert sum(results) == 7
    assert held(session, pot.id) == 70_000 <= pot.budget_cents
    assert session.scalar(select(func.count(Match.id))) == 7
    assert matching.pot_remaining(session, pot) == 0


def test_one_backers_pledges_at_once_stay_within_the_cap_per_backer(app, session, project):
    pot = make_pot(session, cap_per_backer_cents=7 * 10_000)
    [backer] = make_backers(session, 1)
    others = [make_campaign(session, initiator=project.initiator, contest=project.contest, district=project.district)
              for _ in range(THREADS - 1)]  # one open pledge per backer and project: one project each
    pledges = [make_pledge(session, p, backer, 10_000) for p in [project, *others]]
    results = run_at_once(app, [reserving(p.id) for p in pledges])
    session.expire_all()
    assert sum(results) == 7 and held(session, pot.id) == 70_000


def test_the_same_pledge_confirmed_at_once_is_matched_once(app, session, project):
    make_pot(session)
    [backer] = make_backers(session, 1)
    pledge = make_pledge(session, project, backer, 10_000)
    results = run_at_once(app, [reserving(pledge.id) for _ in range(10)])
    assert all(results)
    assert session.scalar(select(func.count(Match.id))) == 1
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity_type == "match")) == 1


def test_lowering_the_budget_while_pledges_reserve_never_leaves_more_held_than_the_budget(app, session, project):
    pot = make_pot(session, budget_cents=20 * 10_000)
    pledges = [make_pledge(session, project, b, 10_000) for b in make_backers(session, THREADS)]
    lowered = PotData(sponsor_name=pot.sponsor_name, budget_cents=10 * 10_000)

    def lower(own) -> str:
        try:
            matching.update_pot(own, pot.id, lowered, actor_id=None)
        except PotInvalid:
            return "refused"
        return "lowered"

    results = run_at_once(app, [lower] + [reserving(p.id) for p in pledges])
    session.expire_all()
    budget = session.get(MatchingPot, pot.id).budget_cents
    assert held(session, pot.id) <= budget
    assert budget == (100_000 if results[0] == "lowered" else 200_000)
    assert sum(results[1:]) == held(session, pot.id) // 10_000
