"""Keyboard only: from the campaign page through the amount and localstripe's card form to an active pledge.

Nothing is clicked or filled: focus moves with Tab and Shift+Tab, links and buttons are used with Enter,
radio buttons with Space, text is typed. The test only reads where the focus is."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from crowdfund.models.pledges import Pledge
from tests.browser import tour
from tests.factories import make_pledge_world

MAX_TABS = 80


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    yield from tour.app_fixture(database_url, tmp_path, localstripe)


def has_focus(target: Locator) -> bool:
    return target.evaluate("el => el === document.activeElement")


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus; fail if it is never reached."""
    target.wait_for()
    for _ in range(MAX_TABS):
        if has_focus(target):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{target} never received the focus by keyboard")


def focus_is_visible(page: Page) -> bool:
    """Tell whether the focused element shows a focus indicator (outline)."""
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    }""")


def test_a_backer_pledges_with_the_keyboard_only(page, live_server, requests_seen, session):
    _world, project, _reward, backer = make_pledge_world(session, quantity_total=3)
    tour.log_in(page, live_server, backer)
    page.goto(f"{live_server}/projects/{project.slug}")

    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    assert has_focus(skip_link) and focus_is_visible(page), "the first Tab reaches the visible skip link"
    page.keyboard.press("Enter")
    back_it = page.locator(f'main a[href="/projects/{project.slug}/pledge"]')
    tab_to(page, back_it)
    assert focus_is_visible(page)
    page.keyboard.press("Enter")

    amount = page.locator("#amount_eur")
    tab_to(page, amount)
    assert focus_is_visible(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("25")
    card = page.locator('input[name="payment_method"][value="card"]')
    tab_to(page, card)
    page.keyboard.press("Space")
    expect(card).to_be_checked()
    tab_to(page, page.locator("main form button[type=submit]"))
    tab_to(page, amount, backwards=True)  # Shift+Tab goes back: the amount is still there
    expect(amount).to_have_value("25")
    tab_to(page, page.locator("main form button[type=submit]"))
    page.keyboard.press("Enter")

    expect(page.locator("#payment-form")).to_be_visible()
    for placeholder, value in (("number", "4242424242424242"), ("exp_month", "12"), ("exp_year", "34"),
                               ("cvc", "123")):
        tab_to(page, page.locator(f'#card-element input[placeholder="{placeholder}"]'))
        page.keyboard.type(value)
    tab_to(page, page.locator("#payment-form button[type=submit]"))
    assert focus_is_visible(page)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server}/me/pledges")
    expect(page.locator(".flash--success")).to_be_visible()
    session.expire_all()
    pledge = session.scalars(select(Pledge).where(Pledge.backer_id == backer.id)).one()
    assert (pledge.status, pledge.amount_cents, pledge.payment_method_type) == ("active", 2_500, "card")
    assert {urlsplit(url).hostname for url in requests_seen if url.startswith("http")} == {"127.0.0.1"}
