import os
import re

import redis
from sqlalchemy import select

from crowdfund import db as dbm
from crowdfund.models.users import User
from tests.conftest import AuthActions, csrf_token, wipe
from tests.factories import PASSWORD, make_user


def register(client, email="new@example.org", password=PASSWORD, confirm=None, name="Neue Nutzerin"):
    data = {"name": name, "email": email, "password": password, "confirm": confirm or password,
            "csrf_token": csrf_token(client, "/auth/register")}
    return client.post("/auth/register", data=data)


def test_registration_creates_an_account_and_logs_in(client, session):
    response = register(client)
    assert response.status_code == 302
    assert session.scalars(select(User.email)).all() == ["new@example.org"]
    assert client.get("/account/").status_code == 200


def test_registration_keeps_the_typed_values_and_names_the_field_on_error(client, session):
    response = register(client, confirm="something else entirely")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="new@example.org"' in html and 'aria-invalid="true"' in html
    assert session.scalars(select(User)).all() == []


def test_registration_with_a_taken_email_is_refused_on_the_email_field(client, session):
    make_user(session, email="taken@example.org")
    response = register(client, email="taken@example.org")
    assert response.status_code == 422
    assert "taken@example.org" in response.get_data(as_text=True)
    assert len(session.scalars(select(User)).all()) == 1


def test_login_and_logout(client, session, auth):
    make_user(session, email="eva@example.org")
    assert auth.login("eva@example.org", PASSWORD).status_code == 302
    assert client.get("/account/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account/").status_code == 302


def test_bad_password_shows_an_error_and_does_not_log_in(client, session, auth):
    make_user(session, email="eva@example.org")
    response = auth.login("eva@example.org", "not the password")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302


def test_login_redirects_only_to_local_next_targets(client, session):
    make_user(session, email="eva@example.org")
    token = csrf_token(client, "/auth/login")
    data = {"email": "eva@example.org", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"}
    response = client.post("/auth/login", data=data)
    assert response.headers["Location"] == "/"


def test_remember_me_sets_a_long_lived_httponly_cookie(client, session, auth):
    make_user(session, email="eva@example.org")
    response = auth.login("eva@example.org", PASSWORD, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    response = client.get("/auth/login")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_rejected_with_400(client, session):
    response = client.post("/auth/register", data={"name": "X", "email": "x@example.org",
                                                   "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert session.scalars(select(User)).all() == []


def test_logout_without_csrf_token_keeps_the_user_logged_in(client, session, auth):
    make_user(session, email="eva@example.org")
    auth.login("eva@example.org", PASSWORD)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/account/").status_code == 200


def test_login_is_rate_limited(client, session):
    token = csrf_token(client, "/auth/login")
    statuses = [client.post("/auth/login", data={"email": "a@example.org", "password": "x", "csrf_token": token})
                .status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_password_change_logs_out_other_sessions(app, session, auth):
    make_user(session, email="eva@example.org")
    other = app.test_client()
    AuthActions(other).login("eva@example.org", PASSWORD)
    auth.login("eva@example.org", PASSWORD)
    data = {"current": PASSWORD, "password": "a brand new password", "confirm": "a brand new password",
            "csrf_token": csrf_token(auth.client, "/account/")}
    assert auth.client.post("/account/password", data=data).status_code == 302
    assert auth.client.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302


def reset_link(text):
    match = re.search(r"http://localhost/auth/reset/\S+", text)
    assert match, text
    return match.group(0).replace("http://localhost", "")


def test_password_reset_by_mailed_link_through_smtp(app_factory, smtp_server):
    host, port, inbox = smtp_server
    app = app_factory(MAIL_SERVER=host, MAIL_PORT=str(port))
    try:
        with app.app_context():
            make_user(dbm.session(), email="eva@example.org")
        client = app.test_client()
        token = csrf_token(client, "/auth/reset")
        assert client.post("/auth/reset", data={"email": "eva@example.org", "csrf_token": token}).status_code == 302
        _sender, recipients, message = inbox[0]
        assert recipients == ["eva@example.org"]
        link = reset_link(message.get_body(("plain",)).get_content())
        data = {"password": "a brand new password", "confirm": "a brand new password",
                "csrf_token": csrf_token(client, link)}
        assert client.post(link, data=data).status_code == 302
        assert client.get(link).status_code == 302  # used once, then void
        assert AuthActions(client).login("eva@example.org", "a brand new password").status_code == 302
    finally:
        wipe(app)


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, app, session):
    token = csrf_token(client, "/auth/reset")
    response = client.post("/auth/reset", data={"email": "ghost@example.org", "csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200
    outbox = app.config["MAIL_OUTBOX_DIR"]
    assert not os.path.exists(outbox) or os.listdir(outbox) == []


def test_without_an_smtp_server_mail_is_written_to_the_outbox_as_eml(client, app, session):
    make_user(session, email="otto@example.org")
    token = csrf_token(client, "/auth/reset")
    client.post("/auth/reset", data={"email": "otto@example.org", "csrf_token": token})
    files = os.listdir(app.config["MAIL_OUTBOX_DIR"])
    assert len(files) == 1 and files[0].endswith(".eml")
    with open(os.path.join(app.config["MAIL_OUTBOX_DIR"], files[0]), "rb") as fh:
        raw = fh.read()
    assert b"To: otto@example.org" in raw and b"/auth/reset/" in raw


def test_login_rate_limit_can_live_in_redis(app_factory):
    redis_url = "redis://127.0.0.1:6379/15"
    app = app_factory(RATELIMIT_STORAGE_URI=redis_url, LOGIN_RATE_LIMIT="3 per minute")
    redis.Redis.from_url(redis_url).flushdb()
    client = app.test_client()
    data = {"email": "a@example.org", "password": "x", "csrf_token": csrf_token(client, "/auth/login")}
    statuses = [client.post("/auth/login", data=data).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert any(b"LIMITER" in key for key in redis.Redis.from_url(redis_url).keys("*"))
