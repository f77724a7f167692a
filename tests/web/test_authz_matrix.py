"""The authorization matrix: every route of the URL map x every role against tests/web/authz_expectations.py.

GETs share one world. Writes: the refusals and the allowed roles' validation answers of every route share
another world, each route's requests between two snapshots of every table that must be equal; the allowed
requests that may write get a fresh world per route. A route without an entry fails the first test."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from tests.web.adversarial_world import ROLES, World, build_world, changed_tables, client_as, snapshot
from tests.web.authz_expectations import EXPECTATIONS, Expect

IGNORED_METHODS = {"HEAD", "OPTIONS"}
IGNORED_ENDPOINTS = {"static"}

# What fills the URL variables; by endpoint prefix, the most specific wins.
Values = Callable[[World], dict[str, object]]


def _defaults(w: World) -> dict[str, object]:
    return {"project_id": w.draft.id, "slug": w.campaign.slug, "pledge_id": w.pledge.id,
            "reward_id": w.draft_reward.id, "token": w.reset_token, "token_id": w.api_token_id,
            "user_id": w.people["backer"].id, "contest_id": w.live_contest.id, "pot_id": w.pot.id,
            "payout_id": w.payout.id, "export_id": w.export.id, "number": w.receipt.number,
            "criterion_id": w.criterion_id, "conflict_id": w.conflict_id, "action": "submit",
            "message_id": w.mail.id}


def _jury(w: World) -> dict[str, object]:
    return {"slug": w.jury_contest.slug, "project_id": w.entry.id, "user_id": w.people["juror"].id}


VALUES: dict[str, Values] = {
    "": _defaults,
    "jury.": _jury,
    "jury_admin.": _jury,
    "jury_results_admin.": _jury,
    "results.": _jury,
    "api_results.": _jury,
    "finance.": lambda w: {"project_id": w.funded.id},
    "refunds.": lambda w: {"project_id": w.funded.id, "pledge_id": w.paid_pledge.id},
    "campaigns.district": lambda w: {"slug": "mitte"},
    "projects.cover": lambda w: {"slug": w.draft.slug},
}

_VARIABLE = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def url_for_rule(rule: Rule, world: World) -> str:
    values: dict[str, object] = {}
    for prefix in sorted(VALUES, key=len):
        if rule.endpoint.startswith(prefix):
            values.update(VALUES[prefix](world))
    missing = rule.arguments - set(values)
    assert not missing, f"no value for {sorted(missing)} of {rule.rule}: add one to VALUES in {__name__}"
    url = _VARIABLE.sub(lambda m: str(values[m.group(1)]), rule.rule)
    return url + QUERIES.get(rule.endpoint, "")


QUERIES = {"finance.datev_export": f"?start={date.today().year}-01-01&end={date.today().year}-12-31"}


def routes(app: Flask) -> dict[tuple[str, str], list[Rule]]:
    found: dict[tuple[str, str], list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            found.setdefault((rule.endpoint, method), []).append(rule)
    return found


def test_every_route_has_an_entry_and_every_entry_a_route(app):
    mapped = routes(app)
    missing = sorted(set(mapped) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(mapped))
    assert not missing, "\n".join(f"add an entry for endpoint {e} {m} ({mapped[e, m][0].rule}) to "
                                  "tests/web/authz_expectations.py" for e, m in missing)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    for key, by_role in EXPECTATIONS.items():
        assert set(by_role) == set(ROLES), f"{key}: expected an answer for each of {ROLES}, got {sorted(by_role)}"


def check(response, expect: Expect, where: str) -> str | None:
    """Return what is wrong with `response`, or None."""
    status = response.status_code
    if status >= 500:
        return f"{where}: server error {status}"
    if status not in expect.codes:
        return f"{where}: {status}, expected {sorted(expect.codes)}"
    if expect.login and urlsplit(response.headers.get("Location", "")).path != "/auth/login":
        return f"{where}: redirected to {response.headers.get('Location')!r}, not to the login page"
    if expect.json and not (response.is_json and "message" in response.get_json()):
        return f"{where}: not a JSON error ({response.content_type})"
    return None


class Actor:
    """A role's client with its CSRF token (API requests carry the role's Bearer token instead)."""

    def __init__(self, app: Flask, world: World, role: str) -> None:
        self.role = role
        self.client, self.csrf = client_as(app, world, role)
        self.bearer = world.tokens.get(role)

    def request(self, method: str, url: str):
        if url.startswith("/api/"):
            headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}
            return self.client.open(url, method=method, headers=headers,
                                    json={} if method == "POST" else None)
        return self.client.open(url, method=method, data={"csrf_token": self.csrf} if method != "GET" else None)


def request_and_check(app: Flask, world: World, role: str, method: str, url: str, expect: Expect) -> list[str]:
    response = Actor(app, world, role).request(method, url)
    problem = check(response, expect, f"{role} {method} {url}")
    response.close()
    return [problem] if problem else []


WRITES = sorted(key for key in EXPECTATIONS if key[1] != "GET")
VALIDATION = {400, 409, 413, 422}  # an allowed bare POST answered with a validation error must not write either


def quiet_roles(by_role: dict[str, Expect]) -> list[str]:
    """Roles whose request must change nothing: refusals and validation answers."""
    return [role for role in ROLES if by_role[role].denied or by_role[role].codes <= VALIDATION]


EFFECTS = [key for key in WRITES if set(quiet_roles(EXPECTATIONS[key])) != set(ROLES)]


def test_every_role_gets_the_expected_answer_on_every_page(app, session: Session):
    world = build_world(app, session)
    actors = {role: Actor(app, world, role) for role in ROLES}
    problems = []
    for (endpoint, method), rules in sorted(routes(app).items()):
        if method != "GET" or (endpoint, method) not in EXPECTATIONS:
            continue
        for rule in rules:
            url = url_for_rule(rule, world)
            for role in ROLES:
                response = actors[role].request(method, url)
                problem = check(response, EXPECTATIONS[endpoint, method][role], f"{role} GET {url} ({endpoint})")
                response.close()
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems)


def test_refused_and_invalid_writes_change_nothing(app, session: Session):
    """Every write route in one world: the refusals and the allowed roles' validation answers, each route's
    requests between two snapshots that must be equal (so the world stays the same for the next route)."""
    world = build_world(app, session)
    problems = []
    for endpoint, method in WRITES:
        by_role = EXPECTATIONS[endpoint, method]
        quiet = quiet_roles(by_role)
        for rule in routes(app)[endpoint, method]:
            url = url_for_rule(rule, world)
            before = snapshot(session)
            for role in quiet:
                problems += request_and_check(app, world, role, method, url, by_role[role])
            changed = changed_tables(before, snapshot(session))
            if changed:
                problems.append(f"{method} {url} ({endpoint}) changed {changed} for {quiet}, who may change nothing")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("endpoint", "method"), EFFECTS, ids=[f"{e}-{m}" for e, m in EFFECTS])
def test_writes_that_may_take_effect_are_answered_as_expected(app, session: Session, endpoint: str, method: str):
    """The allowed requests that may write (a redirect after saving, a cancel): a fresh world each."""
    world = build_world(app, session)
    by_role = EXPECTATIONS[endpoint, method]
    problems = []
    for rule in routes(app)[endpoint, method]:
        url = url_for_rule(rule, world)
        for role in ROLES:
            if role not in quiet_roles(by_role):
                problems += request_and_check(app, world, role, method, url, by_role[role])
    assert not problems, "\n".join(problems)


def test_the_api_ignores_the_session_cookie(app, session: Session):
    world = build_world(app, session)
    client, _csrf = client_as(app, world, "backer")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get(f"/api/v1/pledges/{world.pledge.id}").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {world.tokens['backer']}x"}).status_code == 401


def test_the_snapshot_sees_what_an_allowed_write_changes(app, session: Session):
    """The proof that refusals wrote nothing is only as good as the snapshot: an allowed cancel shows up in it."""
    world = build_world(app, session)
    before = snapshot(session)
    response = Actor(app, world, "backer").request("POST", f"/pledges/{world.pledge.id}/cancel")
    assert response.status_code == 302
    assert {"pledges", "audit_entries"} <= set(changed_tables(before, snapshot(session)))
