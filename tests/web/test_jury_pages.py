"""The jurors' pages: who may open them, conflicts hide entries, others' scores and crowd figures stay
hidden until the juror has submitted, scorecards saved and submitted through the form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from crowdfund.domain.roles import Role
from crowdfund.models.jury import Scorecard
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_backers, make_pledge
from tests.services.test_jury_world import make_jury_world, make_person, score


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def log_in(client, user):
    response = AuthActions(client).login(user.email, PASSWORD)
    assert response.status_code == 302
    return client


def entry_url(world, entry):
    return f"/jury/{world.contest.slug}/entries/{entry.id}"


def test_a_conflicted_entry_is_neither_listed_nor_reachable(client, session):
    world = make_jury_world(session, conflicts=((0, 1),))
    log_in(client, world.jurors[0])
    html = client.get(f"/jury/{world.contest.slug}").get_data(as_text=True)
    assert "Entry A" in html and "Entry C" in html and "Entry B" not in html
    assert "0 of 2 done" in html
    assert client.get(entry_url(world, world.entries[1])).status_code == 404
    post = client.post(entry_url(world, world.entries[1]),
                       data={"csrf_token": csrf_token(client, f"/jury/{world.contest.slug}/conflicts"),
                             "action": "submit", f"score_{world.criteria[0].id}": "5"})
    assert post.status_code == 404


def test_a_conflicted_juror_does_not_see_the_scores_or_the_discussion_of_the_entry(client, session):
    world = make_jury_world(session, conflicts=((0, 0),))
    other = world.jurors[1]
    score(session, world, other, world.entries[0], 9, 9, comment="Secret assessment")
    log_in(client, world.jurors[0])
    for path in (f"/jury/{world.contest.slug}", entry_url(world, world.entries[1])):
        assert "Secret assessment" not in client.get(path).get_data(as_text=True)
    assert client.post(entry_url(world, world.entries[0]) + "/comments", data={
        "csrf_token": csrf_token(client, f"/jury/{world.contest.slug}/conflicts"), "body": "hi"}).status_code == 404


def test_an_unassigned_entry_answers_404_and_a_non_juror_gets_403(client, session):
    world = make_jury_world(session, n_entries=2, n_jurors=2, per_entry=1)
    juror = world.jurors[0]
    log_in(client, juror)
    [assigned] = [e for e in world.entries if client.get(entry_url(world, e)).status_code == 200]
    other = next(e for e in world.entries if e != assigned)
    assert client.get(entry_url(world, other)).status_code == 404
    outsider = make_person(session, Role.JUROR, name="Outsider")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    log_in(client, outsider)
    assert client.get(f"/jury/{world.contest.slug}").status_code == 403
    assert client.get(entry_url(world, assigned)).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_and_backers_are_refused(client, session):
    world = make_jury_world(session)
    response = client.get(f"/jury/{world.contest.slug}")
    assert response.status_code == 302 and "/auth/login" in response.location
    log_in(client, world.initiator)
    assert client.get(f"/jury/{world.contest.slug}").status_code == 403


def test_a_juror_cannot_read_other_scores_before_submitting(client, session):
    world = make_jury_world(session)
    me, other = world.jurors[:2]
    entry = world.entries[0]
    score(session, world, other, entry, 9, 1, comment="Brilliant but risky")
    log_in(client, me)
    html = client.get(entry_url(world, entry)).get_data(as_text=True)
    assert "Brilliant but risky" not in html and "appear once you have submitted" in html
    token = csrf_token(client, entry_url(world, entry))
    impact, feasibility = (f"score_{c.id}" for c in world.criteria)
    draft = client.post(entry_url(world, entry), data={"csrf_token": token, impact: "4", "action": "save"})
    assert draft.status_code == 302
    assert "Brilliant but risky" not in client.get(entry_url(world, entry)).get_data(as_text=True)
    submitted = client.post(entry_url(world, entry), data={"csrf_token": token, impact: "4", feasibility: "6",
                                                           "comment": "Mine", "action": "submit"})
    assert submitted.status_code == 302
    html = client.get(entry_url(world, entry)).get_data(as_text=True)
    assert "Brilliant but risky" in html and "Your scorecard has been submitted." in html
    card = session.query(Scorecard).filter_by(juror_id=me.id).one()
    assert card.status == "submitted" and card.scores == {str(world.criteria[0].id): 4, str(world.criteria[1].id): 6}


def test_submitting_an_incomplete_scorecard_shows_the_missing_field(client, session):
    world = make_jury_world(session)
    log_in(client, world.jurors[0])
    url = entry_url(world, world.entries[0])
    response = client.post(url, data={"csrf_token": csrf_token(client, url), f"score_{world.criteria[0].id}": "4",
                                      "action": "submit"})
    assert response.status_code == 422 and "Please give a score." in response.get_data(as_text=True)
    out_of_range = client.post(url, data={"csrf_token": csrf_token(client, url), "action": "save",
                                          f"score_{world.criteria[0].id}": "11"})
    assert out_of_range.status_code == 422


def test_crowd_figures_stay_hidden_until_every_assigned_card_is_submitted(client, session):
    world = make_jury_world(session, n_entries=2)
    juror = world.jurors[0]
    backer = make_backers(session, 1)[0]
    pledge = make_pledge(session, world.entries[0], backer, 4_200)
    pledge.created_at = world.contest.funding_end - timedelta(days=1)
    session.commit()
    log_in(client, juror)
    score(session, world, juror, world.entries[0], 5, 5)
    html = client.get(f"/jury/{world.contest.slug}").get_data(as_text=True)
    assert "once you have submitted all your scorecards" in html and "42.00" not in html
    score(session, world, juror, world.entries[1], 5, 5)
    html = client.get(f"/jury/{world.contest.slug}").get_data(as_text=True)
    assert "2 of 2 done" in html and "€42.00" in html


def test_a_juror_declares_a_conflict_and_the_entry_disappears_from_the_list(client, session):
    world = make_jury_world(session)
    log_in(client, world.jurors[0])
    url = f"/jury/{world.contest.slug}/conflicts"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "project": world.entries[2].id,
                                      "kind": "own_project", "note": "I lead it"})
    assert response.status_code == 302
    assert "Own project" in client.get(url).get_data(as_text=True)
    html = client.get(f"/jury/{world.contest.slug}").get_data(as_text=True)
    assert "Entry C" not in html and "0 of 2 done" in html
    assert client.get(entry_url(world, world.entries[2])).status_code == 404


def test_the_jury_index_lists_the_jurors_contests(client, session):
    world = make_jury_world(session)
    log_in(client, world.jurors[0])
    html = client.get("/jury").get_data(as_text=True)
    assert re.search(rf'href="/jury/{world.contest.slug}"', html)


def test_the_discussion_takes_contributions_after_submitting(client, session):
    world = make_jury_world(session)
    juror, entry = world.jurors[0], world.entries[0]
    score(session, world, juror, entry, 5, 5)
    log_in(client, juror)
    url = entry_url(world, entry)
    response = client.post(url + "/comments", data={"csrf_token": csrf_token(client, url), "body": "Let us talk"})
    assert response.status_code == 302
    assert "Let us talk" in client.get(url).get_data(as_text=True)
