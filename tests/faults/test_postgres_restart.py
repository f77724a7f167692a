"""PostgreSQL restarted (`pg_ctl restart -m fast`) while the app serves pledges, on a private cluster.

The request in flight at that moment fails cleanly (503, rolled back: no pledge, no reward unit, no audit row);
the next requests get fresh connections (pre-ping) and succeed; afterwards no pledge is lost and settlement
books exactly the campaign's total in the ledger."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crowdfund import create_app
from crowdfund.migrate import upgrade_to_head
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.conftest import make_test_config
from tests.factories import make_api_token, make_backers, make_pledge_world

pytestmark = [pytest.mark.postgres]


class PausingGateway:
    """The fake provider; while `pause` is set, creating a SetupIntent waits for `release` (a pledge request
    is then in the middle of its transaction: the pledge row is flushed, the backer's row locked)."""

    def __init__(self) -> None:
        self.inner = FakeGateway()
        self.pause, self.entered, self.release = threading.Event(), threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_setup_intent(self, **kwargs: Any):
        if self.pause.is_set():
            self.entered.set()
            assert self.release.wait(30), "the test never released the paused request"
        return self.inner.create_setup_intent(**kwargs)


@pytest.fixture
def world(private_postgres, tmp_path):
    upgrade_to_head(private_postgres.url)
    app = create_app(make_test_config(private_postgres.url, tmp_path / "instance"))
    gateway = PausingGateway()
    app.extensions["payment_gateway"] = gateway
    session = app.extensions["db_sessionmaker"]()
    _world, project, reward, _backer = make_pledge_world(session, quantity_total=10, min_amount_cents=1_000)
    project.threshold_cents = 1_000
    session.commit()
    backers = make_backers(session, 6)
    tokens = [{"Authorization": f"Bearer {make_api_token(session, b)}"} for b in backers]
    yield app, session, gateway, project, reward, backers, tokens
    session.close()
    app.extensions["db_engine"].dispose()


def pledge(client, gateway: PausingGateway, project: Project, token: dict[str, str], amount: int, reward_id: int):
    """Start a pledge over the API, save a card at the fake provider and confirm: the pledge's id."""
    started = client.post(f"/api/v1/projects/{project.slug}/pledges", headers=token,
                          json={"amount_cents": amount, "reward_id": reward_id})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    gateway.inner.confirm_setup_intent(body["setup_intent_id"], "pm_card_visa")
    confirmed = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "active", confirmed.get_json()
    return body["id"]


def test_a_restart_fails_only_the_request_in_flight_and_loses_no_pledge(private_postgres, world):
    app, session, gateway, project, reward, backers, tokens = world
    client = app.test_client()
    engine = app.extensions["db_engine"]
    made = {pledge(client, gateway, project, tokens[i], 1_500 + 100 * i, reward.id): 1_500 + 100 * i
            for i in range(2)}

    # A restart between requests: the pooled connections are dead, pre-ping replaces them unnoticed.
    assert engine.pool.checkedin() >= 1
    private_postgres.restart()
    made[pledge(client, gateway, project, tokens[2], 1_700, reward.id)] = 1_700

    # A pledge request is half-way (pledge row flushed, backer locked) when PostgreSQL restarts.
    gateway.pause.set()
    answers: list = []
    inflight = threading.Thread(target=lambda: answers.append(app.test_client().post(
        f"/api/v1/projects/{project.slug}/pledges", headers=tokens[3],
        json={"amount_cents": 4_000, "reward_id": reward.id})))
    inflight.start()
    assert gateway.entered.wait(15), "the in-flight request never reached the provider"
    assert client.get("/healthz").status_code == 200  # a second pooled connection, soon stale
    private_postgres.restart()
    gateway.pause.clear()
    gateway.release.set()
    inflight.join(30)

    failed = answers[0]
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert failed.headers["Retry-After"] == "5"
    assert "es wurde nichts gespeichert" in failed.get_json()["message"]  # German first
    # Pre-ping: the stale pooled connection is replaced without an error on the next requests.
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    assert client.get(f"/projects/{project.slug}").status_code == 200
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Pledge).where(Pledge.backer_id == backers[3].id)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "pledge", AuditEntry.action == "start")) == 3
    assert session.get(Reward, reward.id, populate_existing=True).quantity_claimed == 3

    # The same backer tries again (the lock died with the connection), and more backers pledge.
    for i in (3, 4, 5):
        made[pledge(client, gateway, project, tokens[i], 1_500 + 100 * i, reward.id)] = 1_500 + 100 * i

    session.expire_all()
    rows = dict(session.execute(select(Pledge.id, Pledge.amount_cents).where(Pledge.project_id == project.id)).all())
    assert rows == made  # nothing lost, nothing half-written
    assert session.get(Reward, reward.id).quantity_claimed == 6
    api = client.get(f"/api/v1/projects/{project.slug}").get_json()
    assert (api["pledged_cents"], api["backers"]) == (sum(made.values()), 6)

    # The campaign ends and is settled: the ledger holds exactly the campaign's total, one charge per pledge.
    session.execute(update(Project).where(Project.id == project.id).values(
        deadline=datetime.now(UTC) - timedelta(minutes=1)))
    session.commit()
    report = settle(app.extensions["db_sessionmaker"], gateway.inner, now=datetime.now(UTC), fix_window_days=7,
                    notify=lambda notice: None)
    assert report.charged == 6 and not report.errors, report
    charges = dict(session.execute(select(LedgerEntry.pledge_id, LedgerEntry.amount_cents).where(
        LedgerEntry.kind == "charge")).all())
    assert charges == made
    assert {int(k): v for k, v in gateway.inner.payment_intents_created.items()} == dict.fromkeys(made, 1)


def test_pages_answer_503_while_the_database_is_down_and_recover_when_it_is_back(private_postgres, world):
    app, _session, _gateway, project, _reward, _backers, tokens = world
    client = app.test_client()
    assert client.get(f"/projects/{project.slug}").status_code == 200

    private_postgres.stop()
    try:
        page = client.get(f"/projects/{project.slug}")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "es wurde nichts gespeichert" in page.get_data(as_text=True)
        api = client.post(f"/api/v1/projects/{project.slug}/pledges", headers=tokens[0], json={"amount_cents": 2_000})
        assert api.status_code == 503 and api.get_json()["code"] == 503
        assert client.get("/healthz").status_code == 503
    finally:
        private_postgres.start()

    assert client.get("/healthz").status_code == 200
    assert client.get(f"/projects/{project.slug}").status_code == 200
