"""The short-lived cache of public pages for anonymous visitors (off in tests unless switched on)."""

import re
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from crowdfund import page_cache
from tests.conftest import CSRF_RE
from tests.factories import PASSWORD, make_backers, make_campaign, make_campaign_world, make_pledge, make_user


@pytest.fixture
def cached_app(app):
    app.config["PUBLIC_CACHE_SECONDS"] = 60
    return app


@pytest.fixture
def project(session, cached_app):
    world = make_campaign_world(session)
    return make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                         threshold_cents=10_000)


def statements_during(app, call):
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(app.extensions["db_engine"], "before_cursor_execute", count)
    try:
        response = call()
    finally:
        event.remove(app.extensions["db_engine"], "before_cursor_execute", count)
    return response, len(seen)


def pledged(html):
    return re.search(r"<dt>Pledged</dt>\s*<dd>([^<]+)</dd>", html).group(1)


def test_the_cache_is_off_in_tests_unless_switched_on(app):
    with app.test_request_context():
        assert page_cache.cache_seconds() == 0


def test_an_anonymous_repeat_is_served_without_queries_until_it_expires(cached_app, session, project,
                                                                       monkeypatch):
    client = cached_app.test_client()
    path, en = f"/projects/{project.slug}", {"Accept-Language": "en"}
    first, queries = statements_during(cached_app, lambda: client.get(path, headers=en))
    assert queries > 0 and pledged(first.get_data(as_text=True)) == "€0.00"
    make_pledge(session, project, make_backers(session, 1)[0], 2_500)
    again, queries = statements_during(cached_app, lambda: client.get(path, headers=en))
    assert queries == 0 and again.get_data() == first.get_data().replace(
        CSRF_RE.search(first.get_data(as_text=True)).group(1).encode(),
        CSRF_RE.search(again.get_data(as_text=True)).group(1).encode())
    assert "frame-ancestors 'none'" in again.headers["Content-Security-Policy"]
    later = time.monotonic() + 61
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(monotonic=lambda: later))
    assert pledged(client.get(path, headers=en).get_data(as_text=True)) == "€25.00"


def test_a_cached_page_carries_each_visitors_own_working_csrf_token(cached_app, project):
    first = cached_app.test_client()
    second = cached_app.test_client()
    token_one = CSRF_RE.search(first.get("/projects").get_data(as_text=True)).group(1)
    token_two = CSRF_RE.search(second.get("/projects").get_data(as_text=True)).group(1)
    assert token_one != token_two and "csrf-placeholder" not in second.get("/projects").get_data(as_text=True)
    response = second.post("/language", data={"lang": "en", "next": "/projects", "csrf_token": token_two})
    assert response.status_code == 302
    assert '<html lang="en"' in second.get("/projects").get_data(as_text=True)


def test_languages_are_cached_apart(cached_app, project):
    german = cached_app.test_client().get(f"/projects/{project.slug}", headers={"Accept-Language": "de"})
    english = cached_app.test_client().get(f"/projects/{project.slug}", headers={"Accept-Language": "en"})
    assert '<html lang="de"' in german.get_data(as_text=True)
    assert '<html lang="en"' in english.get_data(as_text=True)


def test_logged_in_users_and_errors_always_get_a_fresh_answer(cached_app, client, session, project, auth):
    make_user(session, email="fan@example.org")
    auth.login("fan@example.org", PASSWORD)
    client.get(f"/projects/{project.slug}")
    _response, queries = statements_during(cached_app, lambda: client.get(f"/projects/{project.slug}"))
    assert queries > 0
    anonymous = cached_app.test_client()
    assert anonymous.get("/projects?state=draft").status_code == 400
    _response, queries = statements_during(cached_app, lambda: anonymous.get("/projects?state=draft"))
    assert queries > 0
