"""In Chromium: a juror scores two entries, one after the other, and sees the progress grow to "2 of 2 done"."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.services.test_jury_world import make_jury_world


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


def score_entry(page: Page, title: str, impact: str, feasibility: str) -> None:
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.get_by_label("Impact").fill(impact)
    page.get_by_label("Feasibility").fill(feasibility)
    page.get_by_label("Comment").fill(f"Notes on {title}")
    page.get_by_role("button", name="Submit scorecard").click()
    expect(page.get_by_role("status")).to_contain_text("Your scorecard has been submitted.")


def test_a_juror_scores_two_entries_and_sees_the_progress(page, live_server, requests_seen, session):
    world = make_jury_world(session, n_entries=2, n_jurors=2)
    juror = world.jurors[0]

    switch_to_english(page, live_server)
    log_in(page, juror.email)
    page.goto(f"{live_server}/jury/{world.contest.slug}")
    progress = page.locator("[data-progress]")
    expect(progress).to_have_text("0 of 2 done")

    score_entry(page, "Entry A", "8", "6")
    expect(progress).to_have_text("1 of 2 done")
    expect(page.get_by_role("main")).to_contain_text("No other juror has submitted")

    page.get_by_role("link", name="Back to your entries").click()
    score_entry(page, "Entry B", "4", "9")
    expect(progress).to_have_text("2 of 2 done")

    page.get_by_role("link", name="Back to your entries").click()
    expect(page.get_by_role("table").first).to_contain_text("Submitted")
    expect(page.get_by_role("heading", name="Crowd figures")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("once you have submitted all your scorecards")

    hosts = {urlsplit(url).hostname for url in requests_seen if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requests_seen
