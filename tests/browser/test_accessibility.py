"""axe-core (axe-playwright-python, offline) on the main pages of every role, in German and in English:
no violation of impact "serious" or "critical". Milder findings are printed, not failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser import tour

SEVERE = frozenset({"serious", "critical"})


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    yield from tour.app_fixture(database_url, tmp_path, localstripe)


@pytest.fixture
def world(session) -> tour.Tour:
    return tour.make_tour(session)


def describe(violation: dict, where: str) -> str:
    nodes = "\n".join(f"      {node['target']}: {node['html'][:200]}\n        {node.get('failureSummary', '')}"
                      for node in violation["nodes"])
    return (f"[{where}] {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    {violation['helpUrl']}\n{nodes}")


def severe_violations(page: Page, axe: Axe, where: str) -> list[str]:
    """Run axe on the page; return the report of each serious or critical violation, print the rest."""
    violations = axe.run(page).response["violations"]
    for mild in (v for v in violations if v["impact"] not in SEVERE):
        print(describe(mild, where))
    return [describe(v, where) for v in violations if v["impact"] in SEVERE]


def visit(page: Page, live_server: str, path: str) -> None:
    response = page.goto(f"{live_server}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)
    assert page.url == f"{live_server}{path}", f"{path} redirected to {page.url}"


@pytest.mark.parametrize("role", tour.ROLES)
def test_the_main_pages_of_each_role_have_no_serious_or_critical_violation(page, live_server, requests_seen, app,
                                                                          world, axe, role):
    if role != "anonymous":
        tour.log_in(page, live_server, world.users[role])
    problems: list[str] = []
    for language in tour.LANGUAGES:
        page.goto(f"{live_server}/")
        tour.switch_language(page, language)
        for path in tour.pages(app, world, role):
            visit(page, live_server, path)
            problems += severe_violations(page, axe, f"{role} {language} {path}")
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", tour.LANGUAGES)
def test_forms_showing_errors_have_no_serious_or_critical_violation(page, live_server, requests_seen, world, axe,
                                                                    language):
    page.goto(f"{live_server}/")
    tour.switch_language(page, language)
    problems: list[str] = []

    page.goto(f"{live_server}/auth/login")
    page.locator("#email").fill(world.users["backer"].email)
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += severe_violations(page, axe, f"{language} login with a wrong password")

    page.goto(f"{live_server}/auth/register")
    page.locator("#email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += severe_violations(page, axe, f"{language} register with errors")

    tour.log_in(page, live_server, world.users["backer"])
    page.goto(f"{live_server}/account/delete")
    page.locator("#delete-password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += severe_violations(page, axe, f"{language} account deletion with a wrong password")

    page.goto(f"{live_server}/projects/{world.campaign.slug}/pledge")
    page.locator("#amount_eur").fill("0,50")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    problems += severe_violations(page, axe, f"{language} pledge below the minimum")
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)


def test_the_payment_step_with_the_card_form_has_no_serious_or_critical_violation(page, live_server, requests_seen,
                                                                                  world, axe):
    tour.log_in(page, live_server, world.users["backer"])
    page.goto(f"{live_server}/projects/{world.campaign.slug}/pledge")
    page.locator("#amount_eur").fill("25")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#payment-form")).to_be_visible()
    pay_path = page.url.removeprefix(live_server)
    problems: list[str] = []
    for language in tour.LANGUAGES:
        tour.switch_language(page, language)
        expect(page).to_have_url(f"{live_server}{pay_path}")
        expect(page.locator('#card-element input[placeholder="number"]')).to_be_visible()
        problems += severe_violations(page, axe, f"backer {language} {pay_path}")
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)


def test_the_sole_admins_refusal_has_no_serious_or_critical_violation(page, live_server, requests_seen, world, axe):
    tour.log_in(page, live_server, world.users["admin"])
    page.goto(f"{live_server}/account/delete")
    expect(page.get_by_role("alert")).to_be_visible()
    problems = severe_violations(page, axe, "admin /account/delete")
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)
