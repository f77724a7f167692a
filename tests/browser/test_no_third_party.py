"""No request to any third party from any page: every main page of every role, the payment step included, asks
only 127.0.0.1 (the app, and localstripe standing in for the payment provider) for anything."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser import tour


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    yield from tour.app_fixture(database_url, tmp_path, localstripe)


def foreign(requests_seen: list[str]) -> list[str]:
    return [url for url in requests_seen if url.startswith(("http:", "https:", "ws:", "wss:"))
            and urlsplit(url).hostname != "127.0.0.1"]


@pytest.mark.parametrize("role", tour.ROLES)
def test_no_page_of_any_role_requests_anything_from_a_third_party(page, live_server, requests_seen, app, session,
                                                                   role):
    world = tour.make_tour(session)
    if role != "anonymous":
        tour.log_in(page, live_server, world.users[role])
    visited = 0
    for path in [*tour.pages(app, world, role), "/", "/privacy", "/imprint"]:
        page.goto(f"{live_server}{path}", wait_until="networkidle")
        visited += 1
    if role == "backer":  # the payment step loads the provider's script: here localstripe on loopback
        page.goto(f"{live_server}/projects/{world.campaign.slug}/pledge")
        page.locator("#amount_eur").fill("25")
        page.locator("main form button[type=submit]").click()
        expect(page.locator('#card-element input[placeholder="number"]')).to_be_visible()
        page.wait_for_load_state("networkidle")
    assert visited >= 3 and len(requests_seen) > visited
    assert foreign(requests_seen) == [], foreign(requests_seen)
    assert {urlsplit(url).hostname for url in requests_seen if url.startswith("http")} == {"127.0.0.1"}
