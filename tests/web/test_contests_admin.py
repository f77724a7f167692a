"""The admins' contest pages: windows typed in Kassel's local time, stored as UTC, checked in order."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_contest, make_user

WINDOWS = {
    "submission_start": "2027-01-15T09:00", "submission_end": "2027-03-31T23:59", "review_end": "2027-04-30T18:00",
    "funding_start": "2027-05-01T00:00", "funding_end": "2027-06-30T23:59", "jury_end": "2027-07-15T12:00",
    "results_at": "2027-07-20T18:00",
}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin(client, session):
    make_user(session, Role.ADMIN, email="anna@example.org")
    AuthActions(client).login("anna@example.org", PASSWORD)
    return client


def post_contest(client, path="/admin/contests/new", **changes):
    data = {"name": "Crowdfunding-Wettbewerb Kassel 2027", "slug": "", "description": "Ideen aus Bürgerhand.",
            **WINDOWS, **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data)


def test_an_admin_creates_a_contest_with_local_times_stored_as_utc(admin, session):
    response = post_contest(admin)
    assert response.status_code == 302 and response.location.endswith("/admin/contests")
    contest = session.scalars(select(Contest)).one()
    assert contest.slug == "crowdfunding-wettbewerb-kassel-2027"
    assert contest.submission_start == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert contest.funding_end == datetime(2027, 6, 30, 21, 59, tzinfo=UTC)  # CEST, UTC+2
    assert "Crowdfunding-Wettbewerb Kassel 2027" in admin.get("/admin/contests").get_data(as_text=True)


def test_windows_out_of_order_are_field_errors_and_the_typed_values_stay(admin, session):
    response = post_contest(admin, funding_start="2027-04-01T10:00", name="Wettbewerb mit Fehler")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This cannot be earlier than “Review ends”." in html
    assert 'value="2027-04-01T10:00"' in html and 'value="Wettbewerb mit Fehler"' in html
    assert session.scalars(select(Contest)).all() == []


def test_editing_shows_the_windows_in_local_time_and_saves_changes(admin, session):
    contest = make_contest(session, now=datetime(2027, 1, 10, 11, 30, tzinfo=UTC))
    path = f"/admin/contests/{contest.id}/edit"
    html = admin.get(path).get_data(as_text=True)
    assert re.search(r'name="funding_start"[^>]* value="2026-12-31T12:30"', html)  # 11:30 UTC is 12:30 in CET
    response = post_contest(admin, path, slug=contest.slug, name="Neuer Name")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Contest, contest.id).name == "Neuer Name"


def test_a_slug_taken_by_another_contest_is_a_field_error(admin, session):
    make_contest(session)
    taken = session.scalars(select(Contest)).one().slug
    response = post_contest(admin, slug=taken)
    assert response.status_code == 422 and "already in use" in response.get_data(as_text=True)
