"""Helpers for tests of the job queue: a clean Redis database (db 5 by default) and an in-process RQ worker."""

from __future__ import annotations

import os
import signal

from flask import Flask

from crowdfund import jobs

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def flush_redis() -> None:
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def run_worker(app: Flask) -> None:
    """Run every queued job with a burst `SimpleWorker` in this process (its own signal handlers undone)."""
    from rq import SimpleWorker

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with app.app_context():
            SimpleWorker([jobs.get_queue(app)], connection=jobs.redis_connection(app)).work(burst=True)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def queued_job_names(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(job.func_name for job in jobs.get_queue(app).get_jobs())
