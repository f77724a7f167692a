"""The job queue: inline by default, RQ on Redis (db 5) with REDIS_URL; retries, locks, the worker command and
the scheduler's tick (inline, and twice at once against Redis)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import g
from rq.job import JobStatus
from sqlalchemy import select

from crowdfund import db, jobs, mail, scheduler
from crowdfund.models.audit import AuditEntry
from crowdfund.models.outbox import SENT, OutboxMessage
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Receipt
from payments.fake import FakeGateway
from receipts.fake_pdf import render_fake_receipt_pdf
from tests.factories import (
    make_active_pledge,
    make_backer,
    make_campaign_world,
    make_contest,
    make_due_campaign,
    make_project,
)
from tests.jobs_support import REDIS_URL, flush_redis, queued_job_names, run_worker

ROOT = Path(__file__).resolve().parents[2]
ALIGNED = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)  # a full 5 minutes: every periodic job is due


@jobs.job(retries=0)
def record(label: str) -> str:
    """A test job: writes an audit row through its own app context's session."""
    assert "db_session" not in g  # a fresh app context, not the caller's
    session = db.session()
    session.add(AuditEntry(entity_type="job-test", entity_id=0, action=label, actor_id=None))
    session.commit()
    return f"recorded {label}"


@jobs.job(retries=2, intervals=(0,))
def flaky(counter: str) -> int:
    """A test job that fails on its first run and succeeds on the second (the count lives in Redis)."""
    runs = jobs.redis_connection().incr(counter)
    if runs < 2:
        raise RuntimeError(f"flaky run {runs}")
    return runs


@jobs.job(retries=1, intervals=(60,))
def always_fails() -> None:
    raise RuntimeError("always")


def labels(session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "job-test")
                                              .order_by(AuditEntry.id))]


@pytest.fixture
def redis_db():
    flush_redis()
    yield REDIS_URL
    flush_redis()


@pytest.fixture
def rq_app(app_factory, redis_db):
    return app_factory(REDIS_URL=redis_db)


# --- inline -------------------------------------------------------------------------------------------------
def test_without_redis_a_job_runs_inline_in_its_own_app_context(app, session):
    with app.app_context():
        db.session()  # the caller's session exists; the job must not reuse it
        done = jobs.enqueue(record, "inline")
        by_path = jobs.enqueue("tests.services.test_jobs.record", "by path")

    assert done.inline and done.job_id is None and done.result == "recorded inline"
    assert by_path.result == "recorded by path"
    assert labels(session) == ["inline", "by path"]


def test_inline_job_errors_reach_the_caller_and_are_logged(app, caplog):
    with app.app_context(), pytest.raises(RuntimeError, match="always"):
        jobs.enqueue(always_fails)
    assert "Job tests.services.test_jobs.always_fails() failed" in caplog.text


# --- RQ on Redis --------------------------------------------------------------------------------------------
def test_with_redis_url_jobs_wait_on_rq_until_a_worker_runs_them(rq_app, session):
    with rq_app.app_context():
        done = jobs.enqueue(record, "queued")
        job = jobs.get_queue().fetch_job(done.job_id)
    assert not done.inline and job.get_status() == JobStatus.QUEUED
    assert labels(session) == []  # nothing ran yet

    run_worker(rq_app)

    assert labels(session) == ["queued"]
    assert job.get_status(refresh=True) == JobStatus.FINISHED and job.return_value() == "recorded queued"


def test_a_failing_job_is_retried_by_the_worker(rq_app, caplog):
    with rq_app.app_context():
        done = jobs.enqueue(flaky, "flaky-count")
    run_worker(rq_app)
    with rq_app.app_context():
        job = jobs.get_queue().fetch_job(done.job_id)
        assert int(jobs.redis_connection().get("flaky-count")) == 2
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == 2
    assert "flaky run 1" in caplog.text  # the failed first run is logged


def test_a_retry_with_an_interval_waits_in_the_scheduled_registry(rq_app):
    with rq_app.app_context():
        done = jobs.enqueue(always_fails)
        queue = jobs.get_queue()
    run_worker(rq_app)
    job = queue.fetch_job(done.job_id)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 0
    assert done.job_id in queue.scheduled_job_registry.get_job_ids()


def test_the_job_lock_is_exclusive_and_released_by_its_owner(rq_app):
    with rq_app.app_context():
        with jobs.exclusive("settle", ttl=60) as first:
            with jobs.exclusive("settle", ttl=60) as second:
                assert (first, second) == (True, False)
            assert jobs.redis_connection().exists("crowdfund:lock:settle")  # the loser did not release it
        with jobs.exclusive("settle", ttl=60) as again:
            assert again


def test_a_periodic_job_whose_lock_is_held_skips_its_run(rq_app, session):
    with rq_app.app_context():
        with jobs.exclusive("publish-due", ttl=60):
            assert scheduler.publish_due() == "skipped: running elsewhere"
        assert scheduler.publish_due() == "published 0 project(s)"


def test_worker_command_runs_queued_jobs(rq_app, session):
    with rq_app.app_context():
        jobs.enqueue(record, "by the worker command")
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = rq_app.test_cli_runner().invoke(args=["worker", "--burst", "--no-fork"])
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    assert "on queue 'crowdfund'" in result.output
    assert labels(session) == ["by the worker command"]


def test_worker_command_without_redis_explains_that_jobs_run_inline(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output and "inline" in result.output


# --- the scheduler ------------------------------------------------------------------------------------------
@pytest.fixture
def due_work(app, session):
    """Something for each periodic job: an approved pitch whose window opened, a funded campaign past its deadline
    (with a backer's active pledge at a fake provider), and a queued mail."""
    fake = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = fake
    app.extensions["receipt_renderer"] = render_fake_receipt_pdf
    world = make_campaign_world(session)
    pitch = make_project(session, initiator=world.initiator, contest=make_contest(session), district=world.district,
                         state="approved")
    pitch.deadline = datetime.now(UTC) + timedelta(days=30)
    session.commit()
    campaign = make_due_campaign(session, world, threshold_cents=1_000)
    pledge = make_active_pledge(session, campaign, make_backer(session), 2_500, fake)
    with app.test_request_context():
        message_id = mail.store(session, mail.mailer().build("mia@example.org", "Hallo", "Text"), kind="test").id
    session.commit()
    return {"pitch": pitch.id, "pledge": pledge.id, "message": message_id}


def test_scheduler_once_without_redis_runs_the_due_jobs_inline(app, runner, session, due_work):
    result = runner.invoke(args=["scheduler", "--once", "--now", ALIGNED.isoformat()])

    assert result.exit_code == 0, result.output
    assert "Jobs run inline: publish-due, settle, mail-outbox" in result.output
    session.expire_all()
    assert session.get(Project, due_work["pitch"]).state == "live"
    assert session.get(Pledge, due_work["pledge"]).status == "paid"
    assert session.scalars(select(Receipt)).all()  # issued after the settlement
    assert session.get(OutboxMessage, due_work["message"]).status == SENT


def test_scheduler_tick_without_redis_starts_settlement_only_every_five_minutes(app):
    with app.app_context():
        assert scheduler.tick(ALIGNED + timedelta(seconds=59)).started == ["publish-due", "settle", "mail-outbox"]
        assert scheduler.tick(ALIGNED + timedelta(minutes=1)).started == ["publish-due", "mail-outbox"]


def test_scheduler_once_twice_at_once_queues_each_due_job_once_and_the_work_is_done_once(
        app, rq_app, session, due_work, database_url, tmp_path):
    """Two `flask --app wsgi scheduler --once` processes at the same moment: one tick's jobs, enqueued once."""
    rq_app.extensions["payment_gateway"] = app.extensions["payment_gateway"]
    rq_app.extensions["receipt_renderer"] = render_fake_receipt_pdf
    env = {**os.environ, "CROWDFUND_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
           "INSTANCE_PATH": str(tmp_path / "cli")}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "--once", "--now", ALIGNED.isoformat()]
    outputs: list[str] = []

    def run() -> None:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
        outputs.append(f"{done.returncode} {done.stdout}{done.stderr}")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert all(o.startswith("0 ") for o in outputs), outputs
    started = [name for o in outputs for name in re.search(r"Jobs queued on RQ \(crowdfund\): (.*)", o)[1].split(", ")
               if name != "none due"]
    assert sorted(started) == ["mail-outbox", "publish-due", "settle"], outputs  # each by one of the two
    assert queued_job_names(rq_app) == ["crowdfund.mail.retry_outbox", "crowdfund.scheduler.publish_due",
                                        "crowdfund.scheduler.settle"]

    run_worker(rq_app)  # runs the three, and the receipts job that settlement enqueued

    session.expire_all()
    assert session.get(Project, due_work["pitch"]).state == "live"
    assert session.get(Pledge, due_work["pledge"]).status == "paid"
    assert len(session.scalars(select(Receipt)).all()) == 1
    assert session.get(OutboxMessage, due_work["message"]).status == SENT
    publishes = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == due_work["pitch"],
                                                         AuditEntry.action == "publish")).all()
    assert len(publishes) == 1
    with rq_app.app_context():
        rerun = scheduler.tick(ALIGNED + timedelta(seconds=30))  # the same slots: nothing new
    assert rerun.started == []
