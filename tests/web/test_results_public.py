"""The public results page and GET /api/v1/contests/<slug>/results: 404 before publication, then the
ranking of the jury's decision with scores, crowd index and prizes (never a juror's own scores)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from openapi_spec_validator import validate

from crowdfund.domain.jury import PhaseAction
from crowdfund.services import jury, jury_results
from tests.factories import make_backers, make_pledge
from tests.services.test_jury_world import make_jury_world, move, score

ONE_CRITERION = (("Overall", "1", 0, 10),)
ENTRY_FIELDS = {"position": int, "slug": str, "title": str, "district": str, "jury_score": float, "scorecards": int,
                "crowd_backers": int, "crowd_amount_cents": int, "crowd_percent_of_threshold": int,
                "final_score": float, "prize_cents": int, "url": str}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def decided_world(session, *, publish=True):
    world = make_jury_world(session, n_entries=2, criteria=ONE_CRITERION)
    first, second = world.entries
    backer = make_backers(session, 1)[0]
    pledge = make_pledge(session, second, backer, 2_500)
    pledge.created_at = second.deadline - timedelta(days=2)
    config = jury.get_config(session, world.contest)
    config.prize_pot_cents, config.prize_places, config.jury_weight = 1_000_001, 2, "0.5"
    session.commit()
    for juror in world.jurors:
        score(session, world, juror, first, 9, comment="Juror's private note")
        score(session, world, juror, second, 5)
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    computed = jury_results.compute_results(session, world.contest, datetime.now(UTC)).computed_order
    jury_results.record_decision(session, world.contest, computed, "", actor=world.admin, now=datetime.now(UTC))
    session.commit()
    if publish:
        move(session, world, PhaseAction.PUBLISH)
    return world


def test_results_are_not_found_before_publication(client, session):
    world = decided_world(session, publish=False)
    assert client.get(f"/contests/{world.contest.slug}/results").status_code == 404
    response = client.get(f"/api/v1/contests/{world.contest.slug}/results")
    assert response.status_code == 404 and response.get_json()["code"] == 404
    assert client.get("/api/v1/contests/no-such-contest/results").status_code == 404


def test_the_api_returns_the_published_ranking_with_its_figures(client, session):
    world = decided_world(session)
    response = client.get(f"/api/v1/contests/{world.contest.slug}/results")
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("contest", "ranking_rule", "jury_weight", "method", "prize_pot_cents")} == {
        "contest": world.contest.slug, "ranking_rule": "weighted", "jury_weight": "0.5", "method": "mean",
        "prize_pot_cents": 1_000_001}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", body["published_at"])
    first, second = body["entries"]
    for entry in body["entries"]:
        assert set(entry) == set(ENTRY_FIELDS)
        assert all(isinstance(entry[k], t) for k, t in ENTRY_FIELDS.items())
    # jury' 1 and 0, crowd' 0 and 1: both finals are 1/2, so the jury's order stands; the pot splits 1:1
    assert (first["title"], first["jury_score"], first["crowd_backers"], first["final_score"]) == (
        "Entry A", 90.0, 0, 0.5)
    assert (second["crowd_backers"], second["crowd_amount_cents"], second["crowd_percent_of_threshold"]) == (
        1, 2_500, 2)
    assert first["prize_cents"] + second["prize_cents"] == 1_000_001
    assert "private note" not in response.get_data(as_text=True)


def test_the_public_page_shows_the_ranking_and_prizes(client, session):
    world = decided_world(session)
    html = client.get(f"/contests/{world.contest.slug}/results").get_data(as_text=True)
    assert html.index("Entry A") < html.index("Entry B")
    assert "€5,000.01" in html and "€5,000.00" in html  # 1,000,001 cents split 1:1, the odd cent to first place
    assert "private note" not in html


def test_the_openapi_document_describes_the_results_and_stays_valid(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(json.loads(json.dumps(spec)))
    assert "/api/v1/contests/{slug}/results" in spec["paths"]
