import json

from openapi_spec_validator import validate

from crowdfund.domain.roles import Role
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user


def test_healthz_reports_ok_with_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_with_a_reason_when_the_database_is_down(app_factory):
    response = app_factory(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none").test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "error" and body["database"] == "unavailable" and body["reason"]


def test_openapi_document_is_valid_and_lists_the_api(client):
    response = client.get("/api/v1/openapi.json")
    spec = response.get_json()
    validate(json.loads(json.dumps(spec)))
    assert spec["info"]["title"] == "Crowdfunding Kassel API"
    assert "/api/v1/me" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_api_me_with_a_token_from_the_profile_page(client, session, auth):
    make_user(session, Role.JUROR, email="jan@example.org", name="Jan")
    auth.login("jan@example.org", PASSWORD)
    html = client.post("/account/tokens", data={"name": "laptop", "csrf_token": csrf_token(client, "/account/")})
    token = html.get_data(as_text=True).split('data-token="')[1].split('"')[0]
    auth.logout()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"id": response.get_json()["id"], "email": "jan@example.org", "name": "Jan",
                                   "locale": None, "roles": ["backer", "juror"]}


def test_api_ignores_the_session_cookie(client, session, auth):
    make_user(session, email="jan@example.org")
    auth.login("jan@example.org", PASSWORD)
    assert client.get("/api/v1/me").status_code == 401


def test_api_rejects_a_wrong_token_with_json_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer cfk_wrong"})
    assert response.status_code == 401 and response.get_json()["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
