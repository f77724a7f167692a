"""Rewards on the initiator's pages: edited freely in a draft, afterwards only their stock, never below claims."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.rewards import Reward
from tests.conftest import AuthActions, csrf_token
from tests.factories import (
    PASSWORD,
    make_complete_pitch,
    make_district,
    make_open_contest,
    make_reward,
    make_user,
)


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def project(session):
    initiator = make_user(session, Role.INITIATOR, email="ida@example.org")
    return make_complete_pitch(session, initiator=initiator, contest=make_open_contest(session),
                               district=make_district(session))


@pytest.fixture
def owner(client, project):
    AuthActions(client).login("ida@example.org", PASSWORD)
    return client


def rewards(session) -> list[Reward]:
    session.expire_all()
    return list(session.scalars(select(Reward).order_by(Reward.id)))


def post(client, path, page, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def test_an_initiator_adds_edits_and_deletes_a_reward_in_a_draft(owner, session, project):
    base = f"/my/projects/{project.id}/rewards"
    response = post(owner, f"{base}/new", f"{base}/new", title="Postkarte", min_amount_eur="15,50",
                    quantity_total="40", delivery_estimate="2027-09")
    assert response.status_code == 302
    [reward] = rewards(session)
    assert (reward.min_amount_cents, reward.quantity_total, reward.delivery_estimate) == (1550, 40, "2027-09")
    edit = f"{base}/{reward.id}/edit"
    assert 'value="15.50"' in owner.get(edit).get_data(as_text=True)
    post(owner, edit, edit, title="Zwei Postkarten", min_amount_eur="20", quantity_total="")
    assert [(r.title, r.min_amount_cents, r.quantity_total) for r in rewards(session)] == [
        ("Zwei Postkarten", 2000, None)]
    page = f"/my/projects/{project.id}"
    assert post(owner, f"{base}/{reward.id}/delete", page).status_code == 302
    assert rewards(session) == []


def test_an_invalid_reward_keeps_the_typed_text_and_names_the_field(owner, session, project):
    path = f"/my/projects/{project.id}/rewards/new"
    response = post(owner, path, path, title="Tasse mit Logo", min_amount_eur="0,50")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The amount must be at least 1 euro." in html
    assert 'value="Tasse mit Logo"' in html and rewards(session) == []


def test_after_approval_rewards_are_locked_but_their_stock_can_change(owner, session, project):
    project.state = "approved"
    session.commit()
    reward = make_reward(session, project, quantity_total=10, quantity_claimed=7)
    page = f"/my/projects/{project.id}"
    base = f"{page}/rewards/{reward.id}"
    response = post(owner, f"{base}/edit", page, title="Anders", min_amount_eur="5")
    assert response.status_code == 409 and "“Approved”" in response.get_data(as_text=True)
    response = post(owner, f"{base}/stock", page, **{f"r{reward.id}-quantity_total": "6"})
    assert response.status_code == 422
    assert "cannot be lower than the number already claimed" in response.get_data(as_text=True)
    assert post(owner, f"{base}/stock", page, **{f"r{reward.id}-quantity_total": "25"}).status_code == 302
    assert [(r.title, r.quantity_total) for r in rewards(session)] == [("Postcard", 25)]


def test_another_initiator_cannot_touch_the_rewards(client, session, project):
    reward = make_reward(session, project)
    make_user(session, Role.INITIATOR, email="otto@example.org")
    token = csrf_token(client, "/auth/login")
    AuthActions(client).login("otto@example.org", PASSWORD)
    base = f"/my/projects/{project.id}/rewards/{reward.id}"
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post(f"{base}/delete", data={"csrf_token": token}).status_code == 403
    assert len(rewards(session)) == 1
