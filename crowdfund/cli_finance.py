"""`flask --app wsgi issue-receipts` and `flask --app wsgi export-finance --kind ... --from ... --to ... --out FILE`.

`issue-receipts` issues every receipt that is due (paid pledges, refunds) and finishes documents whose
rendering failed before; run it from cron, and after each settlement run. Exits 1 if a document failed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from crowdfund import db
from crowdfund.services import finance_exports, payouts, receipts
from crowdfund.services.finance import Period
from crowdfund.services.finance_datev import DatevError, DatevSettings, datev_csv
from crowdfund.services.receipt_content import ReceiptSettings, local_date
from receipts.documents import ReceiptData

KINDS = ("receipts-zip", "csv", "datev", "sepa")


def init_app(app: Flask) -> None:
    app.cli.add_command(issue_receipts_command)
    app.cli.add_command(export_finance_command)


def render_with_weasyprint(data: ReceiptData) -> tuple[bytes, str]:
    """The production renderer: PDF/A-3b with WeasyPrint (imported on first use only)."""
    from receipts.pdf import render_receipt_pdf
    from receipts.render import STATIC_DIR

    return render_receipt_pdf(data, STATIC_DIR)


def receipt_renderer(app: Flask) -> receipts.Renderer:
    """Return the app's renderer: WeasyPrint, unless a test put another in `app.extensions`."""
    return app.extensions.get("receipt_renderer") or render_with_weasyprint


def today_local(app: Flask) -> date:
    return local_date(datetime.now(UTC), app.config["BABEL_DEFAULT_TIMEZONE"])


def issue_receipts_now(app: Flask, *, limit: int | None = None,
                       on_item: Callable[[], None] | None = None) -> receipts.IssueReport:
    """Issue every due receipt with the app's database, renderer and settings (call after a payment commit)."""
    return receipts.issue_receipts_pending(app.extensions["db_sessionmaker"], receipt_renderer(app),
                                           ReceiptSettings.from_config(app.config), today=today_local(app),
                                           limit=limit, on_item=on_item)


@click.command("issue-receipts")
@with_appcontext
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Issue at most this many of each kind.")
def issue_receipts_command(limit: int | None) -> None:
    """Issue the receipts of paid pledges and refunds that have none yet; print what was done."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    total = receipts.count_pending(app.extensions["db_sessionmaker"])
    with click.progressbar(length=total, label="Issuing receipts", file=sys.stderr) as bar:
        report = issue_receipts_now(app, limit=limit, on_item=lambda: bar.update(1))
    click.echo(report.summary())
    if report.failed:
        raise SystemExit(1)


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command("export-finance")
@with_appcontext
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--from", "start", callback=_day, required=True, help="First day (YYYY-MM-DD), included.")
@click.option("--to", "end", callback=_day, required=True, help="Last day (YYYY-MM-DD), included.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--encoding", type=click.Choice(["cp1252", "utf-8-sig"]), default=None,
              help="DATEV only: Windows-1252 (default) or UTF-8 with BOM.")
@click.option("--execution-date", callback=_day, default=None, help="SEPA only: the transfers' date (default today).")
def export_finance_command(kind: str, start: date, end: date, out: Path, encoding: str | None,
                           execution_date: date | None) -> None:
    """Write an export for the period to FILE, with a progress bar on the terminal."""
    if end < start:
        raise click.BadParameter("--to is before --from")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = db.session()
    period = Period(start, end, app.config["BABEL_DEFAULT_TIMEZONE"])
    if kind == "sepa":
        _export_sepa(app, session, start, end, out, execution_date or today_local(app))
        return
    try:
        count, chunks = _stream(app, session, kind, period, encoding)
        with click.progressbar(length=count(), label=f"Exporting {kind}", file=sys.stderr) as bar:
            written = _write(out, chunks(lambda: bar.update(1)))
    except DatevError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {out} ({written} bytes)")


def _stream(app: Flask, session: Any, kind: str, period: Period, encoding: str | None) -> tuple[
        Callable[[], int], Callable[[Callable[[], None]], Iterator[bytes]]]:
    zone = period.timezone
    if kind == "receipts-zip":
        return (lambda: finance_exports.count_receipts(session, period),
                lambda tick: finance_exports.receipts_zip(session, period, on_item=tick))
    if kind == "csv":
        return (lambda: finance_exports.count_entries(session, period),
                lambda tick: finance_exports.journal_csv(
                    finance_exports.journal_lines(session, period, timezone=zone, on_item=tick)))
    settings = DatevSettings.from_config(app.config, encoding)
    assert period.start and period.end
    return (lambda: finance_exports.count_entries(session, period),
            lambda tick: datev_csv(finance_exports.journal_lines(session, period, timezone=zone, on_item=tick),
                                   settings, start=period.start, end=period.end,  # type: ignore[arg-type]
                                   created=datetime.now(UTC)))


def _write(out: Path, chunks: Iterator[bytes]) -> int:
    written = 0
    partial = out.with_name(out.name + ".part")
    with partial.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
            written += len(chunk)
    partial.replace(out)  # a failed export never leaves a complete-looking file behind
    return written


def _export_sepa(app: Flask, session: Any, start: date, end: date, out: Path, execution: date) -> None:
    debtor = payouts.Debtor(app.config["SEPA_DEBTOR_NAME"], app.config["SEPA_DEBTOR_IBAN"],
                            app.config["SEPA_DEBTOR_BIC"])
    try:
        export = payouts.export_payouts(session, debtor, actor_id=None, execution_date=execution,
                                        approved_from=start, approved_to=end)
    except payouts.PayoutRefused as refused:
        raise click.ClickException(str(refused)) from None
    with click.progressbar(length=export.count, label="Exporting SEPA", file=sys.stderr) as bar:
        _write(out, iter([export.xml]))
        bar.update(export.count)
    session.commit()
    click.echo(f"Wrote {out}: {export.count} transfer(s), message {export.message_id}")
