from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user


def test_german_is_the_default_language(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="de"' in html and "Passwort" in html


def test_accept_language_english_gives_english(client):
    html = client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en"' in html and "Password" in html


def test_unsupported_accept_language_falls_back_to_german(client):
    html = client.get("/auth/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="de"' in html


def test_language_switch_overrides_accept_language_for_the_session(client):
    token = csrf_token(client, "/auth/login")
    response = client.post("/language", data={"lang": "en", "next": "/auth/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    html = client.get("/auth/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in html


def test_language_choice_is_remembered_per_user_across_sessions(app, client, session, auth):
    user = make_user(session, email="lena@example.org")
    auth.login("lena@example.org", PASSWORD)
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    session.refresh(user)
    assert user.locale == "en"
    fresh = app.test_client()
    fresh.post("/auth/login", data={"email": "lena@example.org", "password": PASSWORD,
                                    "csrf_token": csrf_token(fresh, "/auth/login")})
    html = fresh.get("/account/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in html


def test_language_switch_ignores_foreign_redirect_targets(client):
    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": "en", "next": "//evil.example/x", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_unknown_language_is_refused(client):
    token = csrf_token(client, "/")
    client.post("/language", data={"lang": "xx", "next": "/", "csrf_token": token})
    assert '<html lang="de"' in client.get("/").get_data(as_text=True)
