"""The pledges API against localstripe: start, confirm from the provider's word, read, list, cancel, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from openapi_spec_validator import validate
from sqlalchemy import select

from crowdfund import create_app
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from payments.localstripe_admin import confirm_card_setup
from tests.conftest import make_test_config, wipe
from tests.factories import make_api_token, make_pledge_world, make_reward, make_user

STARTED_FIELDS = {"id", "status", "setup_intent_id", "client_secret", "publishable_key"}
PLEDGE_FIELDS = {"id", "project", "status", "amount_cents", "currency", "reward_id", "anonymous", "message",
                 "payment_method_type", "setup_intent_id", "created_at"}


@pytest.fixture
def app(database_url, tmp_path, localstripe) -> Iterator[Flask]:
    application = create_app(make_test_config(database_url, tmp_path / "instance", STRIPE_SECRET_KEY="sk_test_x",
                                              STRIPE_PUBLISHABLE_KEY="pk_test_x", STRIPE_API_BASE=localstripe))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def world(session):
    _world, project, reward, backer = make_pledge_world(session, quantity_total=2)
    return project, reward, backer


@pytest.fixture
def token(session, world) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_api_token(session, world[2])}"}


def create(client, headers, project, **body):
    return client.post(f"/api/v1/projects/{project.slug}/pledges", json={"amount_cents": 2_500, **body},
                       headers=headers)


def test_a_pledge_started_over_the_api_becomes_active_once_localstripe_confirms_it(client, session, world, token,
                                                                                   localstripe):
    project, reward, _backer = world
    response = create(client, token, project, reward_id=reward.id, anonymous=True)
    body = response.get_json()
    assert response.status_code == 201 and set(body) == STARTED_FIELDS
    assert body["status"] == "pending_setup" and body["publishable_key"] == "pk_test_x"
    assert body["client_secret"].startswith(body["setup_intent_id"] + "_secret_")
    assert client.get(f"/api/v1/projects/{project.slug}").get_json()["pledged_cents"] == 0

    confirm_card_setup(localstripe, body["client_secret"], "4242424242424242")
    confirmed = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token)
    assert confirmed.status_code == 200
    assert confirmed.get_json() == {"id": body["id"], "status": "active", "setup_intent_status": "succeeded",
                                    "error": None, "setup_intent_id": body["setup_intent_id"],
                                    "client_secret": None}
    pledge = client.get(f"/api/v1/pledges/{body['id']}", headers=token).get_json()
    assert set(pledge) == PLEDGE_FIELDS
    assert (pledge["project"], pledge["status"], pledge["amount_cents"], pledge["currency"], pledge["reward_id"],
            pledge["anonymous"], pledge["payment_method_type"]) == (
        project.slug, "active", 2_500, "EUR", reward.id, True, "card")
    assert [p["id"] for p in client.get("/api/v1/me/pledges", headers=token).get_json()["items"]] == [body["id"]]
    campaign = client.get(f"/api/v1/projects/{project.slug}").get_json()
    assert (campaign["pledged_cents"], campaign["backers"]) == (2_500, 1)


def test_confirm_before_the_card_is_saved_keeps_the_pledge_pending_and_hands_back_a_secret(client, world, token):
    project, _reward, _backer = world
    body = create(client, token, project).get_json()
    confirmed = client.post(f"/api/v1/pledges/{body['id']}/confirm", headers=token).get_json()
    assert (confirmed["status"], confirmed["setup_intent_status"]) == ("pending_setup", "requires_payment_method")
    assert confirmed["client_secret"] == body["client_secret"]


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"amount_cents": 99}, "amount_cents", "too_small"),
    ({"amount_cents": 1_000_001}, "amount_cents", "too_large"),
    ({"amount_cents": 1_999, "reward": True}, "amount_cents", "below_reward"),
    ({"amount_cents": 2_500, "reward_id": 999_999}, "reward_id", "unknown"),
    ({"amount_cents": "25"}, "amount_cents", None),
    ({"amount_cents": 25.5}, "amount_cents", None),
    ({"payment_method_type": "paypal"}, "payment_method_type", None),
    ({"amount_cents": 2_500, "surprise": 1}, "surprise", None),
])
def test_invalid_input_answers_422_naming_the_field(client, session, world, token, body, field, code):
    project, reward, _backer = world
    if body.pop("reward", False):
        body["reward_id"] = reward.id
    response = client.post(f"/api/v1/projects/{project.slug}/pledges", json={"amount_cents": 2_500, **body},
                           headers=token)
    errors = response.get_json()["errors"]
    assert response.status_code == 422 and field in errors, response.get_json()
    if code:
        assert errors[field][0].startswith(code)
    assert session.scalars(select(Pledge)).first() is None


def test_a_sold_out_reward_answers_409_naming_the_reward(client, session, world, token):
    project, _reward, _backer = world
    gone = make_reward(session, project, title="Gone", min_amount_cents=1_000, quantity_total=1, quantity_claimed=1)
    response = create(client, token, project, reward_id=gone.id)
    assert response.status_code == 409 and response.get_json()["errors"]["reward_id"][0].startswith("sold_out")


def test_a_second_open_pledge_for_the_same_project_is_a_conflict(client, world, token):
    project, _reward, _backer = world
    first = create(client, token, project).get_json()
    response = create(client, token, project, amount_cents=5_000)
    assert response.status_code == 409 and str(first["id"]) in response.get_json()["message"]


def test_delete_cancels_before_the_deadline_and_is_a_conflict_after_it(client, session, world, token):
    project, reward, _backer = world
    body = create(client, token, project, reward_id=reward.id).get_json()
    response = client.delete(f"/api/v1/pledges/{body['id']}", headers=token)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    session.expire_all()
    assert session.get(Reward, reward.id).quantity_claimed == 0
    again = create(client, token, project).get_json()
    project.deadline = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    response = client.delete(f"/api/v1/pledges/{again['id']}", headers=token)
    assert response.status_code == 409 and "closed" in response.get_json()["message"]
    assert client.get(f"/api/v1/pledges/{again['id']}", headers=token).get_json()["status"] == "pending_setup"
    assert create(client, make_token_headers(session), project).status_code == 409


def make_token_headers(session) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_api_token(session, make_user(session))}"}


def test_another_users_pledge_answers_404_and_no_token_401(client, session, world, token):
    project, _reward, _backer = world
    pledge_id = create(client, token, project).get_json()["id"]
    other = make_token_headers(session)
    assert client.get(f"/api/v1/pledges/{pledge_id}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/pledges/{pledge_id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/pledges/{pledge_id}/confirm", headers=other).status_code == 404
    assert client.get("/api/v1/me/pledges", headers=other).get_json() == {"items": []}
    for method, path in [("post", f"/api/v1/projects/{project.slug}/pledges"), ("get", f"/api/v1/pledges/{pledge_id}"),
                         ("delete", f"/api/v1/pledges/{pledge_id}"), ("get", "/api/v1/me/pledges"),
                         ("post", f"/api/v1/pledges/{pledge_id}/confirm")]:
        response = getattr(client, method)(path, json={"amount_cents": "not even a number"})
        assert response.status_code == 401 and response.get_json()["code"] == 401, path
    session.expire_all()
    assert session.get(Pledge, pledge_id).status == "pending_setup"


def test_an_unknown_project_is_404_and_a_closed_one_409(client, session, world, token):
    project, _reward, _backer = world
    assert client.post("/api/v1/projects/nothing/pledges", json={"amount_cents": 2_500},
                       headers=token).status_code == 404
    project.state = "ended"
    session.commit()
    assert create(client, token, project).status_code == 409


def test_without_a_payment_provider_the_api_answers_503(database_url, tmp_path, session):
    _world, project, _reward, backer = make_pledge_world(session)
    bare = create_app(make_test_config(database_url, tmp_path / "bare"))
    try:
        headers = {"Authorization": f"Bearer {make_api_token(session, backer)}"}
        response = bare.test_client().post(f"/api/v1/projects/{project.slug}/pledges", json={"amount_cents": 2_500},
                                           headers=headers)
        assert response.status_code == 503 and "no payment provider" in response.get_json()["message"]
        assert session.scalars(select(Pledge)).first() is None
    finally:  # the `app` fixture behind `session` wipes the same database afterwards
        bare.extensions["db_engine"].dispose()


def test_the_openapi_document_describes_the_pledge_paths_with_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(json.loads(json.dumps(spec)))
    paths = spec["paths"]
    assert {"/api/v1/projects/{slug}/pledges", "/api/v1/pledges/{pledge_id}", "/api/v1/pledges/{pledge_id}/confirm",
            "/api/v1/me/pledges"} <= set(paths)
    create_op = paths["/api/v1/projects/{slug}/pledges"]["post"]
    assert create_op["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "404", "409", "422", "503"} <= set(create_op["responses"])
    assert set(paths["/api/v1/pledges/{pledge_id}"]) >= {"get", "delete"}
    schema = spec["components"]["schemas"]["PledgeCreate"]
    assert schema["required"] == ["amount_cents"] and "reward_id" in schema["properties"]
