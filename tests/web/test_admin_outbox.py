"""/admin/outbox: admins see every mail with its delivery state and can retry a queued or failed one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowdfund import mail
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.outbox import FAILED, QUEUED, SENT, OutboxMessage
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user


def add_message(app, session, *, to: str, status: str, attempts: int = 0, error: str | None = None) -> OutboxMessage:
    with app.test_request_context():
        row = mail.store(session, mail.mailer().build(to, f"Betreff für {to}", "Text"), kind="pledge_confirmed",
                         reference="pledge:3")
    row.status, row.attempts, row.last_error = status, attempts, error
    if status != QUEUED:
        row.next_attempt_at = None
    session.commit()
    return row


@pytest.fixture
def admin(session, auth):
    user = make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin")
    auth.login(user.email, PASSWORD)
    return user


@pytest.fixture
def messages(app, session):
    return {
        "sent": add_message(app, session, to="sent@example.org", status=SENT, attempts=1),
        "queued": add_message(app, session, to="queued@example.org", status=QUEUED, attempts=2,
                              error="ConnectionRefusedError: [Errno 111] Connection refused"),
        "failed": add_message(app, session, to="failed@example.org", status=FAILED, attempts=8,
                              error="SMTPServerDisconnected: Connection unexpectedly closed"),
    }


def retry_form(client, row_id: int) -> dict[str, str]:
    html = client.get("/admin/outbox").get_data(as_text=True)
    form = re.search(rf'<form method="post" action="/admin/outbox/{row_id}/retry">(.*?)</form>', html, re.S)
    assert form, f"no retry button for message {row_id}"
    return {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.group(1)).group(1)}


@pytest.mark.parametrize("role", [None, Role.BACKER, Role.FINANCE, Role.INITIATOR, Role.JUROR])
def test_only_admins_see_the_outbox(client, session, auth, role, messages):
    if role is not None:
        user = make_user(session, role)
        auth.login(user.email, PASSWORD)
    page = client.get("/admin/outbox")
    retry = client.post(f"/admin/outbox/{messages['failed'].id}/retry", data={"csrf_token": csrf_token(client, "/")})

    if role is None:
        assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
        assert retry.status_code == 302 and "/auth/login" in retry.headers["Location"]
    else:
        assert (page.status_code, retry.status_code) == (403, 403)
    session.expire_all()
    assert session.get(OutboxMessage, messages["failed"].id).status == FAILED


def test_the_outbox_lists_messages_with_status_attempts_and_last_error(client, admin, messages):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/admin/outbox").get_data(as_text=True)

    assert '<h1 id="outbox-title">Mail outbox</h1>' in html
    for address in ("sent@example.org", "queued@example.org", "failed@example.org"):
        assert address in html
    assert "Connection refused" in html and "Connection unexpectedly closed" in html
    assert "Waiting to be sent" in html and "Failed" in html
    assert "All (3)" in html and "Failed (1)" in html
    assert html.count(">Retry now<span") == 2  # not for the sent one
    assert f'action="/admin/outbox/{messages["sent"].id}/retry"' not in html
    assert 'href="/admin/outbox" aria-current="page">Mail outbox</a>' in html  # in the admin navigation


def test_the_outbox_speaks_german_by_default(client, admin, messages):
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert '<html lang="de"' in html
    assert ">Empfänger*in</th>" in html and ">Erstellt</th>" in html and ">Aktion</th>" in html


def test_the_status_filter_shows_only_that_status(client, admin, messages):
    html = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "failed@example.org" in html and "queued@example.org" not in html and "sent@example.org" not in html


def test_retry_now_sends_a_failed_message_and_is_audited(app, client, session, admin, messages, smtp_server):
    host, port, inbox = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port)
    mail.init_app(app)
    failed = messages["failed"]

    response = client.post(f"/admin/outbox/{failed.id}/retry", data=retry_form(client, failed.id),
                           follow_redirects=True)

    assert response.status_code == 200
    session.expire_all()
    row = session.get(OutboxMessage, failed.id)
    assert (row.status, row.attempts) == (SENT, 9)
    [(_sender, recipients, _message)] = inbox
    assert recipients == ["failed@example.org"]
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "outbox_message")).all()
    assert (entry.entity_id, entry.action, entry.actor_id, entry.from_state, entry.to_state) == (
        failed.id, "retry", admin.id, FAILED, QUEUED)


def test_retry_now_while_smtp_is_still_down_says_so_and_keeps_the_message(app, client, session, admin, messages):
    from tests.conftest import free_port

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=20)
    mail.init_app(app)
    queued = messages["queued"]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    html = client.post(f"/admin/outbox/{queued.id}/retry", data=retry_form(client, queued.id),
                       follow_redirects=True).get_data(as_text=True)

    assert "could not be sent" in html and "It will be retried." in html
    session.expire_all()
    row = session.get(OutboxMessage, queued.id)
    assert (row.status, row.attempts) == (QUEUED, 3)
    assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=200)  # 4 x 60 s after the 3rd attempt


def test_retry_without_a_csrf_token_is_refused(client, session, admin, messages):
    response = client.post(f"/admin/outbox/{messages['failed'].id}/retry")
    assert response.status_code == 400
    session.expire_all()
    assert session.get(OutboxMessage, messages["failed"].id).status == FAILED


def test_retry_of_an_unknown_message_is_404(client, admin, messages):
    assert client.post("/admin/outbox/999999/retry", data={"csrf_token": csrf_token(client, "/")}).status_code == 404
