"""A tour of the platform's main pages as each role, shared by the accessibility and the third-party browser tests.

`make_tour` builds one world with something on every page: a live campaign with a reward, a backer with an
active pledge, a paid one (ledger line and issued receipt) and an API token, a contest whose jury is scoring, a
pitch waiting for review, a finance user and an admin. `pages(app, tour, role)` lists the paths of each role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from crowdfund import create_app
from crowdfund.domain.roles import Role
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from tests.conftest import make_test_config, wipe
from tests.factories import (
    PASSWORD,
    make_api_token,
    make_campaign,
    make_complete_pitch,
    make_open_contest,
    make_pledge,
    make_pledge_world,
    make_update,
)
from tests.services.test_jury_world import make_jury_world, make_person
from tests.services.test_privacy import make_paid_pledge_with_books

ROLES = ("anonymous", "backer", "juror", "finance", "admin")
LANGUAGES = ("de", "en")


def stripe_app(database_url: str, instance, localstripe: str) -> Flask:
    """The app with localstripe as its payment provider (its fake Stripe.js included), as pledging needs."""
    return create_app(make_test_config(database_url, instance, STRIPE_SECRET_KEY="sk_test_x",
                                       STRIPE_PUBLISHABLE_KEY="pk_test_x", STRIPE_API_BASE=localstripe))


def app_fixture(database_url: str, tmp_path, localstripe: str) -> Iterator[Flask]:
    application = stripe_app(database_url, tmp_path / "instance", localstripe)
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


class Tour(NamedTuple):
    users: dict[str, User]
    campaign: Project
    jury_slug: str
    jury_entry_id: int
    review_id: int


def make_tour(session: Session) -> Tour:
    jury = make_jury_world(session, n_entries=2, n_jurors=1)
    world, campaign, _reward, backer = make_pledge_world(session, quantity_total=3)
    make_update(session, campaign, title="Baustart", body="Wir haben **angefangen**.")
    other = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                          title="Lastenrad für alle")
    make_pledge(session, other, backer, 4_000)
    funded = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                           state="funded", title="Sitzbänke am Fluss", deadline=datetime.now(UTC) - timedelta(days=2))
    make_paid_pledge_with_books(session, funded, backer)
    make_api_token(session, backer, "Laptop")
    pitch = make_complete_pitch(session, initiator=jury.initiator, contest=make_open_contest(session),
                                district=world.district, state="submitted", title="Trinkbrunnen")
    finance = make_person(session, Role.FINANCE, name="Fiona Finance")
    users = {"backer": backer, "juror": jury.jurors[0], "finance": finance, "admin": jury.admin}
    return Tour(users, campaign, jury.contest.slug, jury.entries[0].id, pitch.id)


def pages(app: Flask, tour: Tour, role: str) -> list[str]:
    """The main pages of `role` (finance pages only if the app has them)."""
    slug = tour.campaign.slug
    by_role = {
        "anonymous": ["/", "/projects", f"/projects/{slug}", "/districts", "/auth/login", "/auth/register",
                      "/auth/reset", "/privacy", "/imprint"],
        "backer": ["/account/", "/me/pledges", f"/projects/{slug}/pledge", "/account/receipts", "/account/delete"],
        "juror": ["/jury", f"/jury/{tour.jury_slug}", f"/jury/{tour.jury_slug}/entries/{tour.jury_entry_id}",
                  f"/jury/{tour.jury_slug}/conflicts"],
        "finance": [p for p, endpoint in (("/finance/", "finance.index"), ("/finance/payouts", "finance.payout_list"),
                                          ("/finance/reconciliation", "finance.reconciliation"))
                    if endpoint in app.view_functions],
        "admin": ["/admin/review", f"/admin/projects/{tour.review_id}", "/admin/users", "/admin/contests",
                  "/admin/jury", f"/admin/jury/{tour.jury_slug}", "/admin/pots"],
    }
    return by_role[role]


def log_in(page: Page, live_server: str, user: User) -> None:
    """Log in through the form (field ids do not depend on the language)."""
    page.goto(f"{live_server}/auth/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("form[action='/auth/logout']")).to_have_count(1)


def switch_language(page: Page, language: str) -> None:
    """Choose `language` with the header's language select (app.js submits it on change)."""
    select = page.locator("#lang-switch-select")
    if select.input_value() != language:
        select.select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
