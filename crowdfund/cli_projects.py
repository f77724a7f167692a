"""`flask --app wsgi publish-due`: publish approved projects once their contest's crowdfunding window opens.

Meant to run from cron or a systemd timer every few minutes; a second run at the same time does no harm."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from crowdfund import db
from crowdfund.db import utcnow
from crowdfund.services import reviews


def init_app(app: Flask) -> None:
    app.cli.add_command(publish_due_command)


@click.command("publish-due")
@with_appcontext
def publish_due_command() -> None:
    """Publish every approved project whose contest's crowdfunding window has started."""
    session = db.session()
    published = reviews.publish_due(session, utcnow())
    session.commit()
    click.echo(f"Published {len(published)} project(s).")
    for project in published:
        click.echo(f"  {project.slug}")
