"""In Chromium: an initiator pitches and submits an idea, an admin approves and publishes it, the public sees it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from crowdfund.domain.roles import Role
from tests.factories import PASSWORD, make_district, make_open_contest, make_user

BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Trinkbrunnen am Königsplatz"


def switch_to_english(page: Page, live_server: str) -> None:
    page.goto(f"{live_server}/")
    page.get_by_label("Sprache").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def log_in(page: Page, email: str) -> None:
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text("logged in")


def test_an_approved_and_published_pitch_appears_in_the_public_list(page, live_server, requests_seen, session):
    make_user(session, Role.INITIATOR, email="ida@example.org", name="Ida Initiator")
    make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin")
    contest = make_open_contest(session)
    make_district(session, "Wesertor")
    deadline = (contest.funding_start + timedelta(days=20)).astimezone(BERLIN).date().isoformat()

    switch_to_english(page, live_server)
    log_in(page, "ida@example.org")
    page.goto(f"{live_server}/my/projects/new")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Short pitch").fill("Frisches Wasser für alle, mitten in der Stadt.")
    page.get_by_label("Description").fill("## Plan\n\nEin Brunnen mit **Trinkwasser**.")
    page.get_by_label("District").select_option(label="Wesertor")
    page.get_by_label("Category").select_option("environment")
    page.get_by_label("Funding threshold (EUR)").fill("3500")
    page.get_by_label("Deadline").fill(deadline)
    page.locator("#team-0-name").fill("Ida Initiator")
    page.get_by_label("Recipient of the money").fill("Brunnenverein Kassel e. V.")
    page.get_by_label("Recipient's address").fill("Königsplatz 1\n34117 Kassel")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Your draft has been saved")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("submitted for review")

    page.context.clear_cookies()
    switch_to_english(page, live_server)
    log_in(page, "anna@example.org")
    page.goto(f"{live_server}/admin/review")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("The pitch has been approved.")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status")).to_contain_text("The campaign is now live.")
    expect(page.get_by_role("table")).to_contain_text("Anna Admin")

    page.context.clear_cookies()
    page.goto(f"{live_server}/projects")
    expect(page.get_by_role("main")).to_contain_text(TITLE)

    hosts = {urlsplit(url).hostname for url in requests_seen if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requests_seen
