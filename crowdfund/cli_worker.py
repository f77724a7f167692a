"""`flask --app wsgi worker` runs an RQ worker on the app's queue (REDIS_URL, JOB_QUEUE);
`flask --app wsgi scheduler [--once]` starts the periodic jobs (see `crowdfund.scheduler`).

Without REDIS_URL jobs run inline in the process that starts them: `worker` then says so and exits 1, and
`scheduler --once` runs the due jobs itself (call it from cron every minute)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from crowdfund import jobs, scheduler
from crowdfund.cli_payments import parse_now
from crowdfund.db import utcnow

log = logging.getLogger(__name__)

NO_REDIS = ("REDIS_URL is not set: background jobs run inline, in the web or command process that starts them, "
            "so there is nothing for a worker to do. Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to queue "
            "jobs on RQ and run this worker.")


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Quit once the queue is empty.")
@click.option("--no-fork", "no_fork", is_flag=True,
              help="Run each job in the worker process itself (default: a forked child per job).")
def worker_command(burst: bool, no_fork: bool) -> None:
    """Run an RQ worker on the app's job queue (needs REDIS_URL)."""
    from rq import SimpleWorker, Worker

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not jobs.queued(app):
        raise click.ClickException(NO_REDIS)
    jobs.set_process_app(app)
    worker_class = SimpleWorker if no_fork else Worker
    worker = worker_class([jobs.get_queue(app)], connection=jobs.redis_connection(app))
    click.echo(f"Worker {worker.name} on queue {app.config['JOB_QUEUE']!r} "
               f"({jobs.redis_connection(app).connection_pool.connection_kwargs.get('host', '?')})")
    # with_scheduler: RQ's own scheduler moves retries with an interval back onto the queue when due.
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Run one tick and exit (for cron: call it every minute).")
@click.option("--now", callback=parse_now, help="With --once: tick as if it were this moment (ISO 8601; UTC).")
def scheduler_command(once: bool, now: datetime | None) -> None:
    """Start the periodic jobs: publish-due and mail-outbox every minute, settle (then receipts) every 5 minutes."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    mode = f"queued on RQ ({app.config['JOB_QUEUE']})" if jobs.queued(app) else "run inline"
    if once:
        result = scheduler.tick(now)
        click.echo(f"Jobs {mode}: {', '.join(result.started) or 'none due'}")
        if result.failed:
            raise click.ClickException(f"Failed: {', '.join(result.failed)} (see the log)")
        return
    if not jobs.queued(app):
        click.echo("REDIS_URL is not set: the jobs run inline in this process, and only one scheduler may run.")
    click.echo(f"Scheduler started; jobs {mode}. Stop with Ctrl+C.")
    try:
        while True:
            result = scheduler.tick()
            if result.started or result.failed:
                log.info("Tick: started %s, failed %s", result.started or "-", result.failed or "-")
            # Sleep to just after the next full minute, so that the slots are hit early in their period.
            time.sleep(scheduler.TICK_SECONDS - utcnow().timestamp() % scheduler.TICK_SECONDS + 1)
    except KeyboardInterrupt:
        click.echo("Scheduler stopped.")
