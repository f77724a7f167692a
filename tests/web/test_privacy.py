"""The privacy notice and imprint, the data download and account deletion through the web."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.domain.roles import Role
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.receipts import Receipt
from crowdfund.models.users import User
from crowdfund.services import accounts
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_api_token, make_campaign, make_pledge, make_pledge_world, make_user
from tests.services.test_privacy import PDF, make_paid_pledge_with_books


@pytest.fixture
def world(session):
    world, project, _reward, bea = make_pledge_world(session)
    otto = make_user(session, name="Otto Other", email="otto@example.org")
    ended = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                          state="funded", deadline=datetime.now(UTC) - timedelta(days=1))
    open_pledge = make_pledge(session, project, bea, 2_500)
    paid, receipt = make_paid_pledge_with_books(session, ended, bea)
    otto_pledge = make_pledge(session, project, otto, 7_700)
    return {"bea": bea, "otto": otto, "open": open_pledge, "paid": paid, "receipt": receipt, "otto_pledge": otto_pledge}


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def delete_form(client, password: str = PASSWORD, **extra):
    return client.post("/account/delete", data={"password": password,
                                                "csrf_token": csrf_token(client, "/account/delete"), **extra})


# -- pages ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "heading", "words"), [
    ("de", "Datenschutzerklärung", ["Art. 6 Abs. 1 lit. b DSGVO", "lit. c", "lit. f", "Stripe", "§ 147 AO",
                                    "§ 257 HGB", "Vom Veranstalter zu ergänzen"]),
    ("en", "Privacy notice", ["Art. 6(1)(b) GDPR", "Art. 6(1)(c)", "Art. 6(1)(f)", "Stripe", "§ 147 AO", "§ 257 HGB",
                              "to be completed by the organisers"]),
])
def test_the_privacy_notice_names_purposes_legal_bases_processor_retention_and_placeholders(client, language,
                                                                                            heading, words):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    response = client.get("/privacy")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in html and f'<html lang="{language}">' in html
    for word in words:
        assert word in html, word


@pytest.mark.parametrize(("language", "heading", "placeholder"), [
    ("de", "Impressum", "Vom Veranstalter zu ergänzen"), ("en", "Imprint", "to be completed by the organisers")])
def test_the_imprint_has_placeholders_for_the_organisers(client, language, heading, placeholder):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    html = client.get("/imprint").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html and f"<mark>[{placeholder}" in html


def test_every_page_links_to_the_privacy_notice_and_the_imprint_in_its_footer(client):
    footer = client.get("/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert 'href="/privacy"' in footer and 'href="/imprint"' in footer


def test_the_profile_offers_the_data_download_and_account_deletion(client, session, world):
    AuthActions(english(client)).login(world["bea"].email, PASSWORD)
    html = client.get("/account/").get_data(as_text=True)
    assert 'href="/account/data.json"' in html and 'href="/account/delete"' in html
    assert "Download my data" in html and "Delete account" in html


# -- data download ----------------------------------------------------------------------------------------
def test_the_data_download_needs_a_login(client):
    response = client.get("/account/data.json")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_user_downloads_their_pledges_and_nothing_of_other_users(client, session, world):
    AuthActions(client).login(world["bea"].email, PASSWORD)
    response = client.get("/account/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == world["bea"].email
    assert {p["id"] for p in data["pledges"]} == {world["open"].id, world["paid"].id}
    assert [r["number"] for r in data["receipts"]] == [world["receipt"].number]
    text = response.get_data(as_text=True)
    assert "otto@example.org" not in text and "Otto Other" not in text
    assert world["otto_pledge"].id not in {p["id"] for p in data["pledges"]}


# -- deletion ---------------------------------------------------------------------------------------------
def test_the_delete_page_asks_for_the_password(client, session, world):
    AuthActions(english(client)).login(world["bea"].email, PASSWORD)
    html = client.get("/account/delete").get_data(as_text=True)
    assert 'type="password"' in html and 'autocomplete="current-password"' in html
    assert f"Gelöschte Person #{world['bea'].id}" in html


def test_deleting_the_account_pseudonymises_keeps_the_books_revokes_tokens_and_logs_out(client, session, world):
    bea = world["bea"]
    raw = make_api_token(session, bea)
    AuthActions(english(client)).login(bea.email, PASSWORD)
    ledger_before = session.scalar(select(func.count()).select_from(LedgerEntry))

    response = delete_form(client)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Your account has been deleted" in client.get("/").get_data(as_text=True)
    assert client.get("/account/").status_code == 302  # logged out
    session.expire_all()
    user = session.get(User, bea.id)
    assert (user.name, user.email, user.active) == (f"Gelöschte Person #{bea.id}", f"deleted-{bea.id}@invalid", False)
    assert session.get(Pledge, world["open"].id).status == "cancelled"
    assert session.get(Pledge, world["paid"].id).status == "paid"
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == ledger_before
    assert session.get(Receipt, world["receipt"].id).pdf == PDF
    assert accounts.user_for_api_token(session, raw) is None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert AuthActions(client).login(bea.email, PASSWORD).status_code == 422


def test_deletion_ends_the_persons_other_sessions(app, session, world):
    phone, laptop = app.test_client(), app.test_client()
    AuthActions(phone).login(world["bea"].email, PASSWORD)
    AuthActions(laptop).login(world["bea"].email, PASSWORD)
    assert delete_form(laptop).status_code == 302
    assert phone.get("/account/").status_code == 302


def test_a_wrong_password_deletes_nothing(client, session, world):
    AuthActions(english(client)).login(world["bea"].email, PASSWORD)
    response = delete_form(client, password="not my password")
    assert response.status_code == 422
    assert "The password is wrong." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, world["bea"].id).active is True
    assert session.get(Pledge, world["open"].id).status == "active"


def test_deletion_needs_the_csrf_token(client, session, world):
    AuthActions(client).login(world["bea"].email, PASSWORD)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(User, world["bea"].id).active is True


def test_deletion_needs_a_login(client):
    assert client.get("/account/delete").status_code == 302


def test_the_sole_admin_is_refused_with_a_clear_message(client, session):
    admin = make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin")
    AuthActions(english(client)).login(admin.email, PASSWORD)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You are the only administrator" in page and 'type="password"' not in page

    response = client.post("/account/delete", data={"password": PASSWORD,
                                                    "csrf_token": csrf_token(client, "/account/")})
    assert response.status_code == 409
    assert "Give another person the admin role first" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, admin.id).active is True
    assert client.get("/account/").status_code == 200


def test_an_admin_can_leave_once_another_admin_exists(client, session):
    admin = make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin")
    make_user(session, Role.ADMIN, email="bert@example.org", name="Bert Admin")
    AuthActions(client).login(admin.email, PASSWORD)
    assert delete_form(client).status_code == 302
    session.expire_all()
    assert session.get(User, admin.id).active is False


def test_the_german_delete_page_and_message(client, session, world):
    AuthActions(client).login(world["bea"].email, PASSWORD)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = client.get("/account/delete").get_data(as_text=True)
    assert "<h1>Konto löschen</h1>" in html and re.search(r"Ihr Passwort\s*</label>", html)
    delete_form(client)
    assert "Ihr Konto wurde gelöscht" in client.get("/").get_data(as_text=True)
