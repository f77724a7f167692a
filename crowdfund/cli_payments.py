"""`flask --app wsgi settle [--now ISO8601]`: close campaigns past their deadline, charge funded ones exactly
once, recover lost outcomes, fail pledges after the fix window. Meant for cron every few minutes.

Exits 0 when the run did its work (a provider outage only postpones charges to the next run), 1 on real
errors: a misconfigured provider, a possible double charge, or an unexpected exception."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from crowdfund import mail
from crowdfund.db import utcnow
from crowdfund.gateway import PaymentsUnavailable, payment_gateway
from crowdfund.payment_mail import queue_notices
from crowdfund.services.charges import Notice
from crowdfund.services.settlement import CONCURRENCY, SettlementReport, settle


def init_app(app: Flask) -> None:
    app.cli.add_command(settle_command)


def parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback of the `--now` options: an ISO 8601 moment, UTC if it has no offset."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_settlement(app: Flask, now: datetime | None = None, *, max_per_second: float = 0.0,
                   concurrency: int = CONCURRENCY, send_mail: bool = True) -> SettlementReport:
    """Settle with the app's database, gateway, mail outbox and fix window (the command, the scheduler's job,
    test entry scripts).

    Each batch's mails are written unrendered into the mail outbox inside the transaction that records the
    batch (one multi-row INSERT), so the charging never waits for templates or SMTP and a recorded charge never
    loses its mail. Afterwards (`send_mail`) the outbox goes to the job queue: sent now without Redis, by the
    workers with Redis."""

    def queue(session: Session, notices: list[Notice]) -> int:
        with app.app_context():
            return queue_notices(session, notices)

    report = settle(app.extensions["db_sessionmaker"], payment_gateway(), now=now or utcnow(),
                    fix_window_days=int(app.config["PAYMENT_FIX_WINDOW_DAYS"]), notify=_no_notify, queue=queue,
                    max_per_second=max_per_second, concurrency=concurrency)
    if send_mail:
        with app.app_context():
            mail.deliver_queued()
    return report


def _no_notify(notice: Notice) -> None:  # pragma: no cover - the queue port takes every notice
    raise AssertionError(f"settlement with a queue port handed {notice.kind} to notify")


@click.command("settle")
@with_appcontext
@click.option("--now", callback=parse_now, help="Settle as if it were this moment (ISO 8601; UTC if no offset).")
@click.option("--max-per-second", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Make at most this many provider calls per second on average, all sender threads together "
                   "(token bucket; 0: no limit; real Stripe allows about 100 writes/s in live mode, 25 in test mode).")
@click.option("--concurrency", type=click.IntRange(min=1, max=64), default=CONCURRENCY, show_default=True,
              help="Provider calls in flight at once (sender threads).")
def settle_command(now: datetime | None, max_per_second: float, concurrency: int) -> None:
    """Close due campaigns and charge funded ones exactly once; print what was done."""
    try:
        report = run_settlement(current_app._get_current_object(), now,  # type: ignore[attr-defined]
                                max_per_second=max_per_second, concurrency=concurrency)
    except PaymentsUnavailable:
        raise click.ClickException("No payment provider is configured (set STRIPE_SECRET_KEY).") from None
    click.echo(report.summary())
    if report.errors or report.alarms:
        raise SystemExit(1)
