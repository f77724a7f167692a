"""The mail outbox: every mail is stored before it is sent, a mail the SMTP server does not take is retried with
exponential backoff and never lost, and it is marked sent only once the server accepted it."""

from __future__ import annotations

import os
import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from crowdfund import jobs, mail
from crowdfund.models.outbox import FAILED, QUEUED, SENT, OutboxMessage
from tests.conftest import csrf_token, free_port
from tests.factories import make_user
from tests.jobs_support import REDIS_URL, flush_redis, run_worker


class Inbox:
    """An SMTP server on loopback that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        self.controller = None
        self.refuse_with: str | None = None  # e.g. "550 no such user": refuse every recipient

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        inbox = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if inbox.refuse_with:
                    return inbox.refuse_with
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                inbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def inbox():
    server = Inbox()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_app(app, inbox):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, MAIL_TIMEOUT=5.0)
    mail.init_app(app)
    return app


def rows(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def send(app, to: str = "mia@example.org", **kw) -> int:
    with app.test_request_context():
        return mail.send_template(to, "Passwort zurücksetzen", "password_reset", user=None,
                                  link="https://example.org/reset/x", **kw)


def later(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def retry(app, now: str | None = None) -> str:
    with app.app_context():
        return mail.retry_outbox(now)


def test_without_a_mail_server_the_message_is_stored_then_written_as_eml(app, session):
    message_id = send(app, reference="user:7")

    [row] = rows(session)
    files = os.listdir(app.config["MAIL_OUTBOX_DIR"])
    assert (row.id, row.status, row.attempts, row.kind, row.reference) == (message_id, SENT, 1, "password_reset",
                                                                           "user:7")
    assert len(files) == 1
    with open(os.path.join(app.config["MAIL_OUTBOX_DIR"], files[0]), "rb") as fh:
        assert fh.read() == row.message  # the stored message, byte for byte


def test_smtp_delivers_the_stored_message_and_marks_it_sent(smtp_app, session, inbox):
    send(smtp_app)

    [row] = rows(session)
    [received] = inbox.messages
    assert row.status == SENT and row.sent_at is not None and row.next_attempt_at is None and row.last_error is None
    assert received["Message-ID"] == message_from_bytes(row.message, policy=policy.default)["Message-ID"]
    assert received["To"] == "mia@example.org" and "https://example.org/reset/x" in received.get_body().get_content()


def test_smtp_down_keeps_the_message_then_the_retry_job_sends_it_exactly_once(smtp_app, session, inbox):
    inbox.stop()

    message_id = send(smtp_app)  # raises nothing

    [row] = rows(session)
    assert (row.id, row.status, row.attempts) == (message_id, QUEUED, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at - row.created_at >= timedelta(seconds=59)  # MAIL_RETRY_SECONDS = 60
    assert retry(smtp_app) == "0 sent, 0 not sent"  # not due yet

    inbox.start()
    assert retry(smtp_app, later(2)) == "1 sent, 0 not sent"
    assert retry(smtp_app, later(60)) == "0 sent, 0 not sent"

    [row] = rows(session)
    assert (row.status, row.attempts) == (SENT, 2) and len(inbox.messages) == 1


def test_backoff_doubles_then_the_message_is_marked_failed_and_left_alone(app_factory, session, inbox):
    inbox.stop()
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(inbox.port), MAIL_MAX_ATTEMPTS="4",
                      MAIL_RETRY_SECONDS="60")
    send(app)
    waits = []
    for _ in range(3):
        [row] = rows(session)
        before = row.next_attempt_at
        assert retry(app, (before + timedelta(seconds=1)).isoformat()) == "0 sent, 1 not sent"
        [row] = rows(session)
        if row.next_attempt_at:
            waits.append(row.next_attempt_at - before - timedelta(seconds=1))

    [row] = rows(session)
    assert waits == [timedelta(seconds=120), timedelta(seconds=240)]  # after attempts 2 and 3
    assert (row.status, row.attempts, row.next_attempt_at) == (FAILED, 4, None)
    inbox.start()
    assert retry(app, later(24 * 60)) == "0 sent, 0 not sent"  # failed rows wait for an admin
    assert inbox.messages == []


def test_the_retry_job_reads_a_moment_without_offset_as_utc(smtp_app, session, inbox):
    inbox.stop()
    send(smtp_app)
    inbox.start()
    assert retry(smtp_app, (datetime.now(UTC) + timedelta(minutes=2)).replace(tzinfo=None).isoformat()) == \
        "1 sent, 0 not sent"


def test_backoff_is_capped_at_six_hours():
    policy_ = mail.RetryPolicy(max_attempts=30, base_seconds=60)
    assert [policy_.delay(n).total_seconds() for n in (1, 2, 3, 9)] == [60, 120, 240, 60 * 256]
    assert policy_.delay(20) == timedelta(hours=6)


def test_a_recipient_refused_for_good_fails_at_once(smtp_app, session, inbox):
    inbox.refuse_with = "550 5.1.1 No such user"
    send(smtp_app, to="nobody@example.org")

    [row] = rows(session)
    assert (row.status, row.attempts) == (FAILED, 1) and "No such user" in row.last_error


def test_a_temporary_refusal_is_retried(smtp_app, session, inbox):
    inbox.refuse_with = "451 4.3.0 Try again later"
    send(smtp_app)
    [row] = rows(session)
    assert (row.status, row.attempts) == (QUEUED, 1)

    inbox.refuse_with = None
    assert retry(smtp_app, later(5)) == "1 sent, 0 not sent" and len(inbox.messages) == 1


def test_send_template_commits_the_row_on_its_own_whatever_the_caller_does(smtp_app, session, inbox):
    inbox.stop()
    with smtp_app.test_request_context():
        from crowdfund import db

        request_session = db.session()
        mail.send_template("mia@example.org", "Hallo", "password_reset", user=None, link="x")
        request_session.rollback()  # the request fails afterwards: the mail stays

    assert [r.status for r in rows(session)] == [QUEUED]


def test_password_reset_while_smtp_is_down_is_answered_normally_and_the_mail_arrives_later(
        smtp_app, client, session, inbox):
    make_user(session, email="eva@example.org")
    inbox.stop()

    response = client.post("/auth/reset", data={"email": "eva@example.org",
                                                "csrf_token": csrf_token(client, "/auth/reset")})

    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    [row] = rows(session)
    assert (row.recipient, row.status, row.kind) == ("eva@example.org", QUEUED, "password_reset")
    assert "ConnectionRefusedError" in row.last_error

    inbox.start()
    assert retry(smtp_app, later(2)) == "1 sent, 0 not sent"
    assert retry(smtp_app, later(600)) == "0 sent, 0 not sent"
    [received] = inbox.messages
    assert received["To"] == "eva@example.org" and "/auth/reset/" in received.get_body(("plain",)).get_content()
    assert rows(session)[0].status == SENT


# --- on RQ: delivery by a worker --------------------------------------------------------------------------
@pytest.fixture
def rq_smtp_app(app_factory, inbox):
    flush_redis()
    yield app_factory(REDIS_URL=REDIS_URL, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(inbox.port))
    flush_redis()


def test_with_redis_the_request_only_stores_and_a_worker_delivers(rq_smtp_app, session, inbox):
    send(rq_smtp_app)
    assert [r.status for r in rows(session)] == [QUEUED] and inbox.messages == []

    run_worker(rq_smtp_app)

    assert [r.status for r in rows(session)] == [SENT] and len(inbox.messages) == 1


def test_with_redis_down_the_mail_is_stored_and_the_retry_job_sends_it(app_factory, session, inbox):
    app = app_factory(REDIS_URL=f"redis://127.0.0.1:{free_port()}/5", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=str(inbox.port))
    send(app)  # enqueueing fails: logged, not raised
    assert [r.status for r in rows(session)] == [QUEUED]

    with app.app_context():
        assert mail.send_due(app) == (1, 0)
    assert [r.status for r in rows(session)] == [SENT] and len(inbox.messages) == 1


def test_a_delivery_job_for_a_sent_message_does_nothing(smtp_app, session, inbox):
    message_id = send(smtp_app)
    with smtp_app.app_context():
        assert jobs.enqueue(mail.deliver_message, message_id).result.startswith("not queued")
    assert len(inbox.messages) == 1


# --- PostgreSQL: two workers never send the same row -----------------------------------------------------
@pytest.mark.postgres
def test_two_workers_sending_the_outbox_at_once_send_every_message_once(app, smtp_app, session, inbox):
    assert app.extensions["db_engine"].dialect.name == "postgresql"  # row locks: run with TEST_DATABASE_URL
    inbox.stop()
    ids = [send(smtp_app, to=f"b{i}@example.org") for i in range(20)]
    assert {r.status for r in rows(session)} == {QUEUED}
    inbox.start()
    barrier = threading.Barrier(2)
    results = []

    def work() -> None:
        barrier.wait()
        results.append(mail.send_due(smtp_app, datetime.now(UTC) + timedelta(minutes=5)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(sent for sent, _failed in results) == len(ids)
    assert sorted(m["To"] for m in inbox.messages) == sorted(f"b{i}@example.org" for i in range(20))
    assert {(r.status, r.attempts) for r in rows(session)} == {(SENT, 2)}


def test_delivery_errors_are_the_ones_smtp_raises():
    assert issubclass(ConnectionRefusedError, mail.DELIVERY_ERRORS)
    assert issubclass(smtplib.SMTPServerDisconnected, mail.DELIVERY_ERRORS)
