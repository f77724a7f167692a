"""The admin's role page lists every person with their roles (it answered 500 before: its template was missing)."""

from __future__ import annotations

from datetime import UTC, datetime

from crowdfund.domain.roles import Role
from crowdfund.services import privacy
from tests.factories import PASSWORD, make_user


def test_the_role_page_lists_people_with_their_roles_ticked(client, session, auth):
    make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin")
    juror = make_user(session, Role.JUROR, email="jo@example.org", name="Jo Juror")
    gone = make_user(session, email="gone@example.org", name="Gerd Gone")
    make_user(session, Role.ADMIN, email="bert@example.org", name="Bert Admin")
    privacy.delete_account(session, gone, now=datetime.now(UTC))
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("anna@example.org", PASSWORD)

    response = client.get("/admin/users")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1 id=\"users-title\">Users and roles</h1>" in html
    assert f'name="u{juror.id}-roles" value="juror" checked' in html
    assert f'name="u{juror.id}-roles" value="admin">' in html
    assert f"Gelöschte Person #{gone.id}" in html and "Inactive" in html
    assert "Roles of Jo Juror" in html
