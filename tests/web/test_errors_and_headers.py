import pytest

from crowdfund.domain.roles import Role
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user

TITLES = {
    "de": {400: "Ungültige Anfrage", 403: "Zugriff verweigert", 404: "Seite nicht gefunden",
           405: "Methode nicht erlaubt", 413: "Upload zu groß", 429: "Zu viele Anfragen",
           500: "Etwas ist schiefgelaufen"},
    "en": {400: "Bad request", 403: "Access denied", 404: "Page not found", 405: "Method not allowed",
           413: "Upload too large", 429: "Too many requests", 500: "Something went wrong"},
}


def provoke(app, client, session, code):
    """Cause the HTTP error `code` the way a user would meet it."""
    if code == 400:
        return client.post("/auth/login", data={"email": "x@example.org"})  # no CSRF token
    if code == 403:
        make_user(session, email="b@example.org")
        client.post("/auth/login", data={"email": "b@example.org", "password": PASSWORD,
                                         "csrf_token": csrf_token(client, "/auth/login")})
        return client.get("/admin/users")
    if code == 404:
        return client.get("/no/such/page")
    if code == 405:
        return client.get("/auth/logout")
    if code == 413:
        return client.post("/auth/login", data={"email": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    if code == 429:
        data = {"email": "x@example.org", "password": "guess", "csrf_token": csrf_token(client, "/auth/login")}
        for _ in range(int(app.config["LOGIN_RATE_LIMIT"].split()[0])):
            client.post("/auth/login", data=data)
        return client.post("/auth/login", data=data)
    return client.get("/_test/boom")


@pytest.fixture
def boom_app(app):
    def boom():
        raise RuntimeError("kaputt")

    app.add_url_rule("/_test/boom", "boom", boom)
    return app


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500])
def test_every_error_page_speaks_the_users_language(boom_app, session, code, lang):
    client = boom_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    response = provoke(boom_app, client, session, code)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    assert TITLES[lang][code] in html and f'lang="{lang}"' in html


def test_unexpected_errors_do_not_leak_details(boom_app):
    html = boom_app.test_client().get("/_test/boom").get_data(as_text=True)
    assert "kaputt" not in html and "Traceback" not in html


@pytest.mark.parametrize(("path", "code"), [("/api/v1/nothing-here", 404), ("/api/v1/me", 401)])
def test_api_errors_are_json(client, path, code):
    response = client.get(path)
    assert response.status_code == code and response.is_json
    body = response.get_json()
    assert body["code"] == code and body["message"]


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_security_headers_forbid_inline_script_and_framing(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_production_sends_hsts_and_secure_cookies(database_url, tmp_path):
    from config import ProductionConfig
    from crowdfund import create_app

    config = ProductionConfig({"SECRET_KEY": "k", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)})
    production = create_app(config)
    try:
        response = production.test_client().get("/auth/login", base_url="https://localhost")
    finally:
        production.extensions["db_engine"].dispose()
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_role_guard_answers_403_to_a_logged_in_user_without_the_role(client, session, auth):
    make_user(session, Role.FINANCE, email="f@example.org")
    auth.login("f@example.org", PASSWORD)
    assert client.get("/admin/users").status_code == 403


def test_role_guard_sends_anonymous_users_to_the_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/auth/login?next=" in response.headers["Location"]


def test_admin_passes_the_role_guard_and_can_grant_a_role(client, session, auth):
    admin = make_user(session, Role.ADMIN, email="a@example.org")
    user = make_user(session, email="u@example.org")
    auth.login("a@example.org", PASSWORD)
    token = csrf_token(client, "/admin/users")
    response = client.post(f"/admin/users/{user.id}/roles",
                           data={f"u{user.id}-csrf_token": token, f"u{user.id}-roles": ["juror"]})
    assert response.status_code == 302
    session.expire_all()
    assert "juror" in {r.value for r in session.get(type(user), user.id).roles}
    assert admin.has_role(Role.ADMIN)


def test_with_real_stripe_the_policy_admits_stripe_js_its_api_and_its_3ds_frames():
    from crowdfund.security import build_csp

    csp = build_csp({"STRIPE_JS_URL": "https://js.stripe.com/v3/"}, frame_ancestors="'none'")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self' https://js.stripe.com"
    assert directives["connect-src"] == "'self' https://js.stripe.com https://api.stripe.com"
    assert set(directives["frame-src"].split()) == {"https://js.stripe.com", "https://hooks.stripe.com"}
    assert "unsafe-inline" not in csp
