"""Pledging in the browser's place: the form, the payment step against localstripe, confirmation from the
provider, my pledges, change and cancel, the mail, and the payment page's Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from crowdfund import create_app
from crowdfund.models.pledges import Pledge
from crowdfund.models.rewards import Reward
from payments.localstripe_admin import confirm_card_setup, confirm_sepa_debit_setup, free_port
from tests.conftest import AuthActions, csrf_token, make_test_config, wipe
from tests.factories import PASSWORD, make_pledge_world, make_reward, make_user

SECRET_RE = re.compile(r'data-client-secret="([^"]+)"')


def stripe_app(database_url: str, instance, api_base: str, **extra: str) -> Flask:
    return create_app(make_test_config(database_url, instance, STRIPE_SECRET_KEY="sk_test_x",
                                       STRIPE_PUBLISHABLE_KEY="pk_test_x", STRIPE_API_BASE=api_base, **extra))


@pytest.fixture
def app(database_url, tmp_path, localstripe, smtp_server) -> Iterator[Flask]:
    """The app talking to localstripe and mailing through a loopback SMTP server."""
    host, port, _inbox = smtp_server
    application = stripe_app(database_url, tmp_path / "instance", localstripe, MAIL_SERVER=host, MAIL_PORT=str(port))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def world(session):
    _world, project, reward, backer = make_pledge_world(session, quantity_total=3)
    return project, reward, backer


@pytest.fixture
def backer(client, world):
    AuthActions(client).login(world[2].email, PASSWORD)
    return client


def pledge_form(client, project, **fields):
    data = {"amount_eur": "25", "reward": "", "payment_method": "card", "message": "",
            "csrf_token": csrf_token(client, "/me/pledges"), **fields}
    return client.post(f"/projects/{project.slug}/pledge", data=data)


def only_pledge(session) -> Pledge:
    session.expire_all()
    return session.scalars(select(Pledge)).one()


def pay_page_secret(client, pledge_id: int) -> str:
    response = client.get(f"/pledges/{pledge_id}/pay")
    assert response.status_code == 200, response.get_data(as_text=True)
    return SECRET_RE.search(response.get_data(as_text=True)).group(1)


def confirm(client, pledge_id: int):
    return client.post(f"/pledges/{pledge_id}/confirm", data={"csrf_token": csrf_token(client, "/me/pledges")})


def test_a_backer_pledges_25_euros_and_the_campaign_counts_it_once_the_provider_confirms(
        backer, session, world, localstripe, smtp_server):
    project, _reward, user = world
    response = pledge_form(backer, project, amount_eur="25", message="Viel Erfolg!")
    pledge = only_pledge(session)
    assert response.status_code == 302 and response.location.endswith(f"/pledges/{pledge.id}/pay")
    assert (pledge.status, pledge.amount_cents, pledge.message) == ("pending_setup", 2_500, "Viel Erfolg!")
    assert "<dd>€0.00</dd>" in backer.get(f"/projects/{project.slug}").get_data(as_text=True)  # pending: nothing

    secret = pay_page_secret(backer, pledge.id)
    si = confirm_card_setup(localstripe, secret, "4242424242424242")
    assert si["status"] == "succeeded" and si["metadata"] == {"pledge_id": str(pledge.id)}
    response = confirm(backer, pledge.id)
    assert response.status_code == 302 and response.location.endswith("/me/pledges")
    pledge = only_pledge(session)
    assert (pledge.status, pledge.payment_method_type) == ("active", "card")
    assert pledge.payment_method_id and pledge.payment_method_id.startswith("pm_")

    page = backer.get(f"/projects/{project.slug}").get_data(as_text=True)
    assert re.search(r"<dt>Pledged</dt>\s*<dd>€25\.00</dd>", page) and re.search(r"<dt>Backers</dt>\s*<dd>1</dd>",
                                                                               page)
    mine = backer.get("/me/pledges").get_data(as_text=True)
    assert project.title in mine and "Active" in mine and "€25.00" in mine
    _host, _port, inbox = smtp_server
    [(_sender, recipients, message)] = inbox
    body = message.get_body(("plain",)).get_content()
    assert recipients == [user.email] and project.title in message["Subject"]
    assert "25,00" in body and "/me/pledges" in body  # the backer's language: German by default


def test_the_browser_saying_so_is_not_enough_the_provider_decides(backer, session, world):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    response = confirm(backer, pledge.id)
    assert response.status_code == 302 and response.location.endswith(f"/pledges/{pledge.id}/pay")
    assert only_pledge(session).status == "pending_setup"
    assert "could not be saved" in backer.get(f"/pledges/{pledge.id}/pay").get_data(as_text=True)


def test_a_failed_3d_secure_check_gets_a_fresh_setup_intent_and_the_next_card_works(backer, session, world,
                                                                                    localstripe):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    first = pay_page_secret(backer, pledge.id)
    assert confirm_card_setup(localstripe, first, "4000002760003184", authenticate=False)["status"] == "canceled"
    assert confirm(backer, pledge.id).location.endswith(f"/pledges/{pledge.id}/pay")
    second = pay_page_secret(backer, pledge.id)
    assert second != first and only_pledge(session).setup_intent_id == second.split("_secret_")[0]
    assert confirm_card_setup(localstripe, second, "4000002760003184")["status"] == "succeeded"
    confirm(backer, pledge.id)
    assert only_pledge(session).status == "active"


def test_a_sepa_debit_pledge_shows_the_mandate_and_activates(backer, session, world, localstripe):
    project, _reward, _user = world
    form = backer.get(f"/projects/{project.slug}/pledge").get_data(as_text=True)
    assert "SEPA direct debit" in form and "to debit your account" in form
    pledge_form(backer, project, payment_method="sepa_debit", amount_eur="40,50")
    pledge = only_pledge(session)
    page = backer.get(f"/pledges/{pledge.id}/pay").get_data(as_text=True)
    assert 'data-method="sepa_debit"' in page and 'id="iban"' in page and "to debit your account" in page
    confirm_sepa_debit_setup(localstripe, SECRET_RE.search(page).group(1))
    confirm(backer, pledge.id)
    pledge = only_pledge(session)
    assert (pledge.status, pledge.amount_cents, pledge.payment_method_type) == ("active", 4_050, "sepa_debit")


def test_the_payment_page_loads_stripe_js_from_localstripe_without_inline_script(backer, session, world,
                                                                                 localstripe):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    response = backer.get(f"/pledges/{pledge.id}/pay")
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert f'<script src="{localstripe}/js.stripe.com/v3/"></script>' in html
    assert all("src=" in attrs and "type=" not in attrs for attrs in scripts), scripts
    assert '/static/js/pledge.js" defer' in html and 'data-publishable-key="pk_test_x"' in html
    csp = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    origin = f"http://{urlsplit(localstripe).netloc}"
    assert csp["script-src"] == f"'self' {origin}" and csp["connect-src"] == f"'self' {origin}"
    foreign = {tok for value in csp.values() for tok in value.split() if "://" in tok or tok == "*"}
    assert foreign <= {origin, "*"} and "*" not in csp["script-src"] + csp["connect-src"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_amounts_are_read_in_euros_exactly_and_errors_name_the_field(backer, session, world):
    project, reward, _user = world
    response = pledge_form(backer, project, amount_eur="0,99")
    assert response.status_code == 422 and "below the minimum pledge" in response.get_data(as_text=True)
    response = pledge_form(backer, project, amount_eur="19.99", reward=str(reward.id))
    assert response.status_code == 422 and "minimum of the chosen reward" in response.get_data(as_text=True)
    response = pledge_form(backer, project, amount_eur="12,3456")
    assert response.status_code == 422 and "two decimal places" in response.get_data(as_text=True)
    assert session.scalars(select(Pledge)).first() is None
    pledge_form(backer, project, amount_eur="20,10", reward=str(reward.id))
    assert (only_pledge(session).amount_cents, only_pledge(session).reward_id) == (2_010, reward.id)


def test_the_form_shows_what_is_left_of_each_reward_and_refuses_a_sold_out_one(backer, session, world):
    project, reward, _user = world
    gone = make_reward(session, project, title="Sold out mug", min_amount_cents=1_000, quantity_total=1,
                       quantity_claimed=1)
    html = backer.get(f"/projects/{project.slug}/pledge?reward={reward.id}").get_data(as_text=True)
    assert "Tote bag – from €20.00 – 3 of 3 left" in html and "Sold out mug – from €10.00 – sold out" in html
    assert re.search(rf'value="{reward.id}"[^>]*checked|checked[^>]*value="{reward.id}"', html)
    assert re.search(rf'disabled[^>]*value="{gone.id}"|value="{gone.id}"[^>]*disabled', html)
    assert 'value="20"' in html  # the amount starts at the chosen reward's minimum
    response = pledge_form(backer, project, amount_eur="20", reward=str(gone.id))
    assert response.status_code == 422 and "This reward is sold out" in response.get_data(as_text=True)


def test_a_second_visit_to_the_pledge_form_leads_to_the_existing_pledge(backer, session, world, localstripe):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    assert backer.get(f"/projects/{project.slug}/pledge").location.endswith(f"/pledges/{pledge.id}/pay")
    confirm_card_setup(localstripe, pay_page_secret(backer, pledge.id))
    confirm(backer, pledge.id)
    assert backer.get(f"/projects/{project.slug}/pledge").location.endswith(f"/pledges/{pledge.id}/edit")
    assert pledge_form(backer, project, amount_eur="99").location.endswith(f"/pledges/{pledge.id}/edit")
    assert only_pledge(session).amount_cents == 2_500


def test_a_backer_changes_and_then_cancels_a_pledge_until_the_deadline(backer, session, world, localstripe):
    project, reward, _user = world
    pledge_form(backer, project, amount_eur="30", reward=str(reward.id))
    pledge = only_pledge(session)
    confirm_card_setup(localstripe, pay_page_secret(backer, pledge.id))
    confirm(backer, pledge.id)
    edit = f"/pledges/{pledge.id}/edit"
    assert 'value="30"' in backer.get(edit).get_data(as_text=True)
    response = backer.post(edit, data={"amount_eur": "45", "reward": "", "message": "Mehr!",
                                       "csrf_token": csrf_token(backer, edit)})
    assert response.status_code == 302
    pledge = only_pledge(session)
    assert (pledge.amount_cents, pledge.reward_id, pledge.status) == (4_500, None, "active")
    assert session.get(Reward, reward.id).quantity_claimed == 0
    mine = backer.get("/me/pledges").get_data(as_text=True)
    assert f'action="/pledges/{pledge.id}/cancel"' in mine and f'href="{edit}"' in mine
    response = backer.post(f"/pledges/{pledge.id}/cancel", data={"csrf_token": csrf_token(backer, "/me/pledges")})
    assert response.status_code == 302 and only_pledge(session).status == "cancelled"
    assert f'action="/pledges/{pledge.id}/cancel"' not in backer.get("/me/pledges").get_data(as_text=True)


def test_after_the_deadline_a_pledge_can_neither_be_changed_nor_cancelled(backer, session, world, localstripe):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    confirm_card_setup(localstripe, pay_page_secret(backer, pledge.id))
    confirm(backer, pledge.id)
    project.deadline = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    token = csrf_token(backer, "/me/pledges")
    assert "/cancel" not in backer.get("/me/pledges").get_data(as_text=True)
    assert backer.post(f"/pledges/{pledge.id}/cancel", data={"csrf_token": token}).location.endswith("/me/pledges")
    assert backer.get(f"/pledges/{pledge.id}/edit").location.endswith("/me/pledges")
    assert "no longer be changed" in backer.get("/me/pledges").get_data(as_text=True)
    assert only_pledge(session).status == "active"
    response = backer.get(f"/projects/{project.slug}/pledge")
    assert response.location.endswith(f"/projects/{project.slug}")


def test_another_users_pledge_is_not_found(client, session, world, localstripe):
    project, _reward, owner = world
    AuthActions(client).login(owner.email, PASSWORD)
    pledge_form(client, project)
    pledge = only_pledge(session)
    AuthActions(client).logout()
    intruder = make_user(session, email="eve@example.org")
    AuthActions(client).login(intruder.email, PASSWORD)
    token = csrf_token(client, "/me/pledges")
    assert client.get(f"/pledges/{pledge.id}/pay").status_code == 404
    assert client.get(f"/pledges/{pledge.id}/edit").status_code == 404
    assert client.post(f"/pledges/{pledge.id}/confirm", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/pledges/{pledge.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert only_pledge(session).status == "pending_setup"


def test_pledging_needs_a_login_and_a_csrf_token(client, session, world):
    project, _reward, user = world
    response = client.get(f"/projects/{project.slug}/pledge")
    assert response.status_code == 302 and "/auth/login" in response.location
    AuthActions(client).login(user.email, PASSWORD)
    response = client.post(f"/projects/{project.slug}/pledge", data={"amount_eur": "25", "payment_method": "card"})
    assert response.status_code == 400 and session.scalars(select(Pledge)).first() is None


def test_the_campaign_page_links_to_the_pledge_form_and_to_each_reward_left(client, session, world):
    project, reward, _user = world
    gone = make_reward(session, project, title="Gone", min_amount_cents=1_000, quantity_total=1, quantity_claimed=1)
    html = client.get(f"/projects/{project.slug}").get_data(as_text=True)
    assert f'href="/projects/{project.slug}/pledge"' in html and "Back this project" in html
    assert f'href="/projects/{project.slug}/pledge?reward={reward.id}"' in html
    assert f"reward={gone.id}" not in html
    project.state = "ended"
    session.commit()
    assert "/pledge" not in client.get(f"/projects/{project.slug}").get_data(as_text=True)


def test_a_provider_that_cannot_be_reached_gives_a_clear_page_and_writes_nothing(database_url, tmp_path, session):
    _world, project, reward, user = make_pledge_world(session)
    dead = stripe_app(database_url, tmp_path / "dead", f"http://127.0.0.1:{free_port()}")
    client = dead.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    try:
        AuthActions(client).login(user.email, PASSWORD)
        response = pledge_form(client, project, reward=str(reward.id))
        assert response.status_code == 503 and "cannot be reached" in response.get_data(as_text=True)
        session.expire_all()
        assert session.scalars(select(Pledge)).first() is None
        assert session.get(Reward, reward.id).quantity_claimed == 0
    finally:  # the `app` fixture behind `session` wipes the same database afterwards
        dead.extensions["db_engine"].dispose()


def test_without_a_payment_provider_pledging_is_not_available_and_nothing_breaks(database_url, tmp_path,
                                                                                session):
    _world, project, _reward, user = make_pledge_world(session)
    bare = create_app(make_test_config(database_url, tmp_path / "bare"))
    client = bare.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    try:
        AuthActions(client).login(user.email, PASSWORD)
        response = client.get(f"/projects/{project.slug}/pledge")
        assert response.status_code == 503 and "no payment provider is configured" in response.get_data(as_text=True)
        response = client.post(f"/projects/{project.slug}/pledge", data={
            "amount_eur": "25", "payment_method": "card",
            "csrf_token": csrf_token(client, "/me/pledges")})
        assert response.status_code == 503 and session.scalars(select(Pledge)).first() is None
        assert client.get("/me/pledges").status_code == 200
    finally:  # the `app` fixture behind `session` wipes the same database afterwards
        bare.extensions["db_engine"].dispose()


def test_changing_a_pledge_that_still_lacks_its_payment_method_leads_back_to_the_payment_step(backer, session,
                                                                                             world):
    project, _reward, _user = world
    pledge_form(backer, project)
    pledge = only_pledge(session)
    edit = f"/pledges/{pledge.id}/edit"
    response = backer.post(edit, data={"amount_eur": "35", "reward": "", "csrf_token": csrf_token(backer, edit)})
    assert response.location.endswith(f"/pledges/{pledge.id}/pay")
    assert (only_pledge(session).amount_cents, only_pledge(session).status) == (3_500, "pending_setup")
