"""`flask --app wsgi jury-results --contest SLUG --format csv|json`: the jury's current results.

For the organisers (no publication needed). Run after the deadline it freezes the crowd index, as the
admin results page does."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from crowdfund import db
from crowdfund.db import utcnow
from crowdfund.services import jury, jury_exports, jury_results


def init_app(app: Flask) -> None:
    app.cli.add_command(jury_results_command)


@click.command("jury-results")
@with_appcontext
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
def jury_results_command(slug: str, fmt: str) -> None:
    """Print the contest's ranking with jury score, crowd index, final score and prizes."""
    session = db.session()
    contest = jury.contest_by_slug(session, slug)
    if contest is None:
        raise click.ClickException(f"No contest with the slug {slug!r}.")
    results = jury_results.compute_results(session, contest, utcnow())
    session.commit()
    if fmt == "json":
        click.echo(json.dumps(jury_exports.results_document(results), ensure_ascii=False, indent=2))
    else:
        click.echo(jury_exports.results_csv(results), nl=False)
