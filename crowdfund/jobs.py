"""Background jobs: run inline (synchronously, in the calling process) by default, on RQ when REDIS_URL is set.

A job is a plain module-level function decorated with `@job(...)`, taking primitive arguments only (ids,
strings, numbers), so that it can be pickled onto the queue and run again safely: every job is idempotent.
The decorator gives each run its own app context (a fresh database session; on a worker the app that
`flask --app wsgi worker` created once for its process), logs start, end and failure, and carries the RQ
retry policy (`Retry(max=..., interval=[...])`) that `enqueue` uses.

    from crowdfund import jobs
    jobs.enqueue(deliver_message, 42)                    # a function ...
    jobs.enqueue("crowdfund.mail.deliver_message", 42)   # ... or its dotted path

`exclusive(name, ttl)` is a Redis lock (SET NX with expiry, released only by its owner) that periodic jobs
take so that two workers never run the same one at the same time."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

# Compare-and-delete: a lock that expired and was taken by another process is not released by its old owner.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@dataclass(frozen=True)
class JobSpec:
    retries: int = 3  # further attempts after an exception (RQ mode)
    intervals: tuple[int, ...] = (10, 60, 300)  # seconds before the 1st, 2nd, ... retry
    timeout: int = 600  # seconds a run may take before the worker kills it


@dataclass(frozen=True)
class Enqueued:
    """What `enqueue` did: `job_id` of the RQ job, or `inline` with the job's return value."""

    name: str
    job_id: str | None = None
    inline: bool = False
    result: Any = None


_process_app: Flask | None = None


def set_process_app(app: Flask | None) -> None:
    """Use `app` for jobs that run outside any app context (the worker sets its own; tests may too)."""
    global _process_app
    _process_app = app


def job_app() -> Flask:
    """The app a job runs in: the current one, else the process's (created once with `create_app()`)."""
    global _process_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    else:
        if _process_app is None:
            from crowdfund import create_app

            _process_app = create_app()
        app = _process_app
    pid = os.getpid()
    if app.extensions.get("jobs_pid", pid) != pid:
        # A forked work horse: never share the parent's pooled database connections.
        app.extensions["db_engine"].dispose(close=False)
    app.extensions["jobs_pid"] = pid
    return app


def job(*, retries: int = 3, intervals: tuple[int, ...] = (10, 60, 300), timeout: int = 600) -> Callable:
    """Declare a job function: each run gets its own app context and is logged; RQ retries it on exceptions."""
    spec = JobSpec(retries, tuple(intervals), timeout)

    def decorate(func: Callable) -> Callable:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            app = job_app()
            started = time.monotonic()
            log.info("Job %s%r started", name, args)
            try:
                with app.app_context():
                    result = func(*args, **kwargs)
            except Exception:
                log.exception("Job %s%r failed after %.2f s", name, args, time.monotonic() - started)
                raise
            log.info("Job %s%r done in %.2f s: %s", name, args, time.monotonic() - started, result)
            return result

        run.job_spec = spec  # type: ignore[attr-defined]
        run.job_name = name  # type: ignore[attr-defined]
        return run

    return decorate


def resolve(func: Callable | str) -> Callable:
    """Return the function for a dotted path ("crowdfund.mail.deliver_message"), or `func` itself."""
    if callable(func):
        return func
    module, _, attr = func.rpartition(".")
    if not module:
        raise ValueError(f"{func!r} is not a dotted path to a job function")
    return getattr(importlib.import_module(module), attr)


def queued(app: Flask | None = None) -> bool:
    """True when jobs go to RQ (REDIS_URL is set), False when they run inline."""
    app = app or current_app
    return bool(app.config.get("REDIS_URL"))


def redis_connection(app: Flask | None = None):
    """The app's Redis client (one per app; redis-py reconnects after a fork by itself)."""
    from redis import Redis

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config["REDIS_URL"]
    client = app.extensions.get("jobs_redis")
    if client is None or app.extensions.get("jobs_redis_url") != url:
        client = Redis.from_url(url)
        app.extensions["jobs_redis"], app.extensions["jobs_redis_url"] = client, url
    return client


def get_queue(app: Flask | None = None):
    """The app's RQ queue (JOB_QUEUE on REDIS_URL)."""
    from rq import Queue

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Queue(app.config["JOB_QUEUE"], connection=redis_connection(app))


def key(app: Flask, *parts: object) -> str:
    """A Redis key in the app's namespace (the queue's name)."""
    return ":".join([app.config["JOB_QUEUE"], *(str(p) for p in parts)])


def enqueue(func: Callable | str, *args: Any, **kwargs: Any) -> Enqueued:
    """Run `func(*args, **kwargs)` now (inline mode) or put it on the RQ queue (REDIS_URL set).

    Inline, the job's exception propagates to the caller (who decides whether it matters); on RQ the worker
    retries it per the job's `@job(retries=..., intervals=...)`."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    function = resolve(func)
    name = getattr(function, "job_name", f"{function.__module__}.{function.__qualname__}")
    if not queued(app):
        log.debug("Running job %s inline", name)
        return Enqueued(name, inline=True, result=function(*args, **kwargs))
    from rq import Retry

    spec: JobSpec = getattr(function, "job_spec", JobSpec())
    retry = Retry(max=spec.retries, interval=list(spec.intervals)) if spec.retries else None
    rq_job = get_queue(app).enqueue_call(function, args=args, kwargs=kwargs, timeout=spec.timeout, retry=retry,
                                         description=f"{name}{args!r}", result_ttl=3600, failure_ttl=7 * 86400)
    log.info("Enqueued job %s%r as %s on %s", name, args, rq_job.id, app.config["JOB_QUEUE"])
    return Enqueued(name, job_id=rq_job.id)


@contextmanager
def exclusive(name: str, ttl: int) -> Iterator[bool]:
    """Take the Redis lock `name` for at most `ttl` seconds; yield whether this process got it.

    Without Redis (inline mode: one process runs the job) there is nothing to coordinate: always True."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not queued(app):
        yield True
        return
    redis, lock, token = redis_connection(app), key(app, "lock", name), uuid.uuid4().hex
    got = bool(redis.set(lock, token, nx=True, ex=ttl))
    if not got:
        log.info("Job lock %s is held by another worker: skipping this run", lock)
    try:
        yield got
    finally:
        if got:
            redis.eval(_RELEASE, 1, lock, token)
