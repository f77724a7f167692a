"""`flask --app wsgi settle [--now ISO8601]`: close campaigns past their deadline, charge funded ones exactly
once, recover lost outcomes, fail pledges after the fix window. Meant for cron every few minutes.

Exits 0 when the run did its work (a provider outage only postpones charges to the next run), 1 on real
errors: a misconfigured provider, a possible double charge, or an unexpected exception."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from crowdfund.db import utcnow
from crowdfund.gateway import PaymentsUnavailable, payment_gateway
from crowdfund.payment_mail import send_notice
from crowdfund.services.charges import Notice
from crowdfund.services.settlement import CONCURRENCY, SettlementReport, settle

#: Threads that hand the run's mails to the mail port (rendering, the outbox's transactions) while it charges.
MAIL_THREADS = 4


def init_app(app: Flask) -> None:
    app.cli.add_command(settle_command)


def _parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_settlement(app: Flask, now: datetime | None = None, *, max_per_second: float = 0.0,
                   concurrency: int = CONCURRENCY) -> SettlementReport:
    """Settle with the app's database, gateway, mail and fix window (the command, and test entry scripts).

    Mail goes to the `notify` port (`send_notice`) after each batch's transaction has committed, from
    MAIL_THREADS threads that each work in an application context of their own."""

    def notify(notice: Notice) -> None:
        with app.app_context():
            send_notice(notice)

    return settle(app.extensions["db_sessionmaker"], payment_gateway(), now=now or utcnow(),
                  fix_window_days=int(app.config["PAYMENT_FIX_WINDOW_DAYS"]), notify=notify,
                  max_per_second=max_per_second, concurrency=concurrency, mail_threads=MAIL_THREADS)


@click.command("settle")
@with_appcontext
@click.option("--now", callback=_parse_now, help="Settle as if it were this moment (ISO 8601; UTC if no offset).")
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
