"""Settlement's mail goes into the outbox unrendered, inside the transaction that records the charged batch,
and is rendered in each backer's language when it is sent: the charging never waits for templates or SMTP,
a recorded charge never loses its mail, and a mail fault never undoes the money side."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes, policy

from sqlalchemy import func, select, update

from crowdfund import mail
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.outbox import QUEUED, SENT, OutboxMessage
from crowdfund.models.pledges import Pledge
from crowdfund.models.users import User
from crowdfund.payment_mail import queue_notices
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backers, make_campaign_world, make_due_campaign


def _world(session, fake, methods):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    backers = make_backers(session, len(methods))
    pledges = [make_active_pledge(session, project, backer, 2_500, fake, method=method)
               for backer, method in zip(backers, methods, strict=True)]
    session.execute(update(User).where(User.id == backers[0].id).values(locale="en"))
    session.commit()
    return project, backers, pledges


def _settle(app, fake, queue):
    return settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7,
                  notify=lambda notice: (_ for _ in ()).throw(AssertionError(notice)), queue=queue)


def _queue(app):
    def queue(session, notices):
        with app.app_context():
            return queue_notices(session, notices)
    return queue


def _decoded(row: OutboxMessage):
    return message_from_bytes(row.message, policy=policy.default)


def test_charged_backers_mails_are_queued_unrendered_then_sent_in_their_language(app, session):
    fake = FakeGateway()
    _project, backers, pledges = _world(session, fake, ["pm_card_visa", "pm_card_visa", "pm_card_chargeDeclined"])

    report = _settle(app, fake, _queue(app))

    assert (report.charged, report.action_required, report.mails_failed) == (2, 1, 0)
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert sorted((r.kind, r.reference) for r in rows) == sorted(
        [("campaign_funded", f"pledge:{pledges[0].id}"), ("campaign_funded", f"pledge:{pledges[1].id}"),
         ("action_required", f"pledge:{pledges[2].id}")])
    assert all(r.status == QUEUED and r.message is None and r.attempts == 0 for r in rows)
    by_pledge = {json.loads(r.payload)["pledge_id"]: r for r in rows}
    assert json.loads(by_pledge[pledges[0].id].payload)["amount_cents"] == 2_500
    # The subject is already final (shown to admins in the outbox); English for the backer who chose English.
    assert by_pledge[pledges[0].id].subject.endswith("is funded")
    assert "finanziert" in by_pledge[pledges[1].id].subject

    with app.app_context():
        sent, not_sent = mail.send_due(app, limit=None)
    assert (sent, not_sent) == (3, 0)
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage)))
    assert all(r.status == SENT and r.message is not None for r in rows)
    english = _decoded(by_pledge[pledges[0].id])
    assert english["To"] == backers[0].email
    assert "We have charged €25.00 to your saved payment method" in english.get_body(("plain",)).get_content()
    german = _decoded(by_pledge[pledges[1].id]).get_body(("plain",)).get_content()
    assert "25,00\xa0€" in german and "Hallo Backer 1" in german
    fix = _decoded(by_pledge[pledges[2].id]).get_body(("plain",)).get_content()
    assert f"/pledges/{pledges[2].id}/payment" in fix


def test_a_mail_fault_never_undoes_the_recorded_charges(app, session):
    fake = FakeGateway()
    project, _backers, _pledges = _world(session, fake, ["pm_card_visa", "pm_card_visa"])

    def broken_queue(_session, _notices):
        raise RuntimeError("outbox table is gone")

    report = _settle(app, fake, broken_queue)

    assert report.charged == 2 and report.mails_failed == 2
    session.expire_all()
    assert {p.status for p in session.scalars(select(Pledge).where(Pledge.project_id == project.id))} == {"paid"}
    charged = session.scalar(select(func.sum(LedgerEntry.amount_cents)).where(
        LedgerEntry.project_id == project.id, LedgerEntry.kind == "charge"))
    assert charged == 5_000
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_queued_mail_that_cannot_be_rendered_stays_queued_with_the_reason(app, session):
    with app.app_context():
        mail.store_deferred(session, [mail.Deferred(kind="campaign_funded", recipient="a@example.org",
                                                    subject="x", payload=json.dumps({"pledge_id": 1}))])
        session.commit()
        sent, not_sent = mail.send_due(app, limit=None)
    assert (sent, not_sent) == (0, 1)
    row = session.scalars(select(OutboxMessage)).one()
    assert row.status == QUEUED and row.attempts == 1 and row.message is None
    assert row.last_error.startswith("RenderError: TypeError")
    assert row.next_attempt_at is not None


def test_queueing_a_kind_without_a_renderer_is_refused(app, session):
    with app.app_context():
        try:
            mail.store_deferred(session, [mail.Deferred(kind="no_such_mail", recipient="a@example.org",
                                                        subject="x", payload="{}")])
        except ValueError as exc:
            assert "no_such_mail" in str(exc)
        else:
            raise AssertionError("an unknown kind was queued")
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
