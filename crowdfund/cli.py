"""`flask --app wsgi ...` commands: init-db, create-user, create-token, seed-demo."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from crowdfund import cli_finance, cli_jury, cli_payments, cli_projects, cli_worker, db
from crowdfund.domain.roles import parse_role
from crowdfund.services import accounts


def init_app(app: Flask) -> None:
    for command in (init_db_command, create_user_command, create_token_command, seed_demo_command):
        app.cli.add_command(command)
    cli_projects.init_app(app)
    cli_payments.init_app(app)
    cli_jury.init_app(app)
    cli_finance.init_app(app)
    cli_worker.init_app(app)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Upgrade the database to the newest migration (SQLite or PostgreSQL by DATABASE_URL)."""
    from crowdfund.migrate import upgrade_to_head

    upgrade_to_head(current_app.config["DATABASE_URL"])
    click.echo(f"Database is at the newest migration: {db.engine().url.render_as_string(hide_password=True)}")


def _roles(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list:
    try:
        return [parse_role(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, callback=_roles,
              help="Repeatable: backer, initiator, juror, finance, admin")
def create_user_command(email: str, password: str, name: str, roles: list) -> None:
    """Create a user with the given roles."""
    session = db.session()
    try:
        user = accounts.register_user(session, email=email, name=name, password=password, roles=roles)
    except accounts.AccountError as exc:
        message = {
            "duplicate_email": f"A user with the e-mail address {email!r} already exists.",
            "password_too_short": f"The password must have at least {accounts.MIN_PASSWORD_LENGTH} characters.",
        }.get(str(exc), str(exc))
        raise click.ClickException(message) from None
    session.commit()
    click.echo(f"Created user {user.email} (id {user.id}) with roles: {', '.join(sorted(user.roles))}")


@click.command("create-token")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
def create_token_command(email: str, name: str) -> None:
    """Create a personal API token and print it once (only its hash is stored)."""
    session = db.session()
    user = accounts.find_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email!r}.")
    raw, _row = accounts.create_api_token(session, user, name)
    session.commit()
    click.echo(raw)


@click.command("seed-demo")
@with_appcontext
@click.option("--projects", "extra_projects", default=0, type=click.IntRange(0, 100_000),
              help="Also generate this many synthetic projects (for load tests).")
def seed_demo_command(extra_projects: int) -> None:
    """Fill the database with the demo contest, districts, users and pitches (idempotent); with localstripe
    configured (STRIPE_API_BASE, as under `make run`) also demo backers whose pledges are saved there."""
    from crowdfund.services.demo import seed_demo

    session = db.session()
    report = seed_demo(session, extra_projects=extra_projects)
    session.commit()
    click.echo(report.summary())
    _seed_demo_pledges(session)


def _seed_demo_pledges(session: Session) -> None:
    """Demo pledges go through the configured provider; without one, or with real Stripe, none are added."""
    from functools import partial

    from crowdfund.services.demo import DemoProviderUnreachable, seed_demo_pledges
    from crowdfund.services.pledges import PledgeRules
    from payments.localstripe_admin import confirm_card_setup

    gateway, api_base = current_app.extensions.get("payment_gateway"), current_app.config.get("STRIPE_API_BASE")
    if gateway is None:
        click.echo("No payment provider is configured (STRIPE_SECRET_KEY): no demo pledges were added.")
        return
    if not api_base:
        click.echo("Demo pledges are only saved at localstripe (STRIPE_API_BASE), never at real Stripe: "
                   "none were added.")
        return
    try:
        report = seed_demo_pledges(session, gateway, partial(confirm_card_setup, api_base),
                                   rules=PledgeRules.from_config(current_app.config))
    except DemoProviderUnreachable as error:
        click.echo(f"The payment provider at {api_base} did not answer, so no demo pledges were added: {error}",
                   err=True)
        return
    click.echo(report.summary())
