"""Periodic jobs and the scheduler's tick: publish due projects (every minute), settle and then issue the
receipts (every 5 minutes), retry the mail outbox (every minute).

With Redis, a tick enqueues each job whose current period ("slot") has not been claimed yet; the claim is a
Redis key set with NX and an expiry, so two schedulers (or two `scheduler --once` runs from cron) never start
the same job twice in one slot. The jobs themselves take a Redis lock (`jobs.exclusive`), so two workers
never run the same periodic job at the same time. Without Redis, a tick runs the due jobs inline, and a job is
due when its slot began less than a minute ago: cron calling `scheduler --once` every minute runs each job
once per period."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app

from crowdfund import db, jobs, mail
from crowdfund.db import utcnow

log = logging.getLogger(__name__)

TICK_SECONDS = 60


@jobs.job(retries=2, intervals=(30, 120), timeout=600)
def publish_due() -> str:
    """Job: publish the approved projects whose crowdfunding window has opened."""
    from crowdfund.services import reviews

    with jobs.exclusive("publish-due", ttl=600) as mine:
        if not mine:
            return "skipped: running elsewhere"
        session = db.session()
        published = reviews.publish_due(session, utcnow())
        session.commit()
    return f"published {len(published)} project(s)"


@jobs.job(retries=2, intervals=(60, 300), timeout=3600)
def settle() -> str:
    """Job: settle due campaigns (`flask settle`), then issue the receipts that became due."""
    from crowdfund.cli_payments import run_settlement
    from crowdfund.gateway import PaymentsUnavailable

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with jobs.exclusive("settle", ttl=3600) as mine:
        if not mine:
            return "skipped: running elsewhere"
        try:
            report = run_settlement(app)
        except PaymentsUnavailable:
            log.warning("Settlement skipped: no payment provider is configured (set STRIPE_SECRET_KEY).")
            return "skipped: no payment provider"
    if report.errors or report.alarms:
        log.error("Settlement finished with errors or alarms:\n%s", report.summary())
    jobs.enqueue(issue_receipts)
    return report.summary()


@jobs.job(retries=2, intervals=(60, 300), timeout=3600)
def issue_receipts() -> str:
    """Job: issue every receipt that is due (after a settlement run)."""
    from crowdfund.cli_finance import issue_receipts_now

    with jobs.exclusive("issue-receipts", ttl=3600) as mine:
        if not mine:
            return "skipped: running elsewhere"
        report = issue_receipts_now(current_app._get_current_object())  # type: ignore[attr-defined]
    if report.failed:
        log.error("Issuing receipts: some documents failed:\n%s", report.summary())
    return report.summary()


@dataclass(frozen=True)
class Periodic:
    name: str
    every: int  # seconds
    job: Callable

    def slot(self, now: datetime) -> int:
        return int(now.timestamp()) // self.every


PERIODIC: tuple[Periodic, ...] = (
    Periodic("publish-due", 60, publish_due),
    Periodic("settle", 300, settle),
    Periodic("mail-outbox", 60, mail.retry_outbox),
)


@dataclass
class TickResult:
    started: list[str]
    failed: list[str]


def _claim(app: Flask, periodic: Periodic, now: datetime) -> bool:
    """True if this scheduler is the first to start `periodic` in its current slot."""
    if not jobs.queued(app):
        return now.timestamp() - periodic.slot(now) * periodic.every < TICK_SECONDS
    claim = jobs.key(app, "tick", periodic.name, periodic.slot(now))
    return bool(jobs.redis_connection(app).set(claim, "1", nx=True, ex=2 * periodic.every + TICK_SECONDS))


def tick(now: datetime | None = None) -> TickResult:
    """Start every periodic job that is due at `now` and not yet started in its slot (needs an app context)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    result = TickResult([], [])
    for periodic in PERIODIC:
        if not _claim(app, periodic, now):
            continue
        try:
            jobs.enqueue(periodic.job)
        except Exception:  # one failing job must not keep the others from running
            log.exception("Periodic job %s failed to start or run", periodic.name)
            result.failed.append(periodic.name)
        else:
            result.started.append(periodic.name)
    return result
