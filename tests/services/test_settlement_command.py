"""`flask --app wsgi settle`: prints what it did, mails the backers in their language, exits non-zero only on
real errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crowdfund import mail
from payments.fake import FakeGateway
from payments.gateway import PaymentError
from tests.factories import make_active_pledge, make_backers, make_campaign_world, make_due_campaign, make_pledge


@pytest.fixture
def fake(app) -> FakeGateway:
    gateway = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = gateway
    return gateway


@pytest.fixture
def inbox(app, smtp_server):
    host, port, messages = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, BASE_URL="https://crowdfunding.example")
    mail.init_app(app)
    return messages


def mails(inbox) -> dict[str, tuple[str, str]]:
    return {rcpts[0]: (str(msg["Subject"]), msg.get_content()) for _sender, rcpts, msg in inbox}


def test_settle_charges_a_funded_campaign_and_mails_each_backer(runner, session, fake, inbox):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    ok, declined = make_backers(session, 2)
    declined.locale = "en"
    session.commit()
    make_active_pledge(session, project, ok, 2_500, fake)
    late = make_active_pledge(session, project, declined, 1_000, fake, method="pm_card_chargeDeclined")

    result = runner.invoke(args=["settle"])

    assert result.exit_code == 0, result.output
    assert "1 funded, 0 not funded" in result.output and "charged 1" in result.output
    assert "1 need the backer" in result.output
    sent = mails(inbox)
    subject, text = sent[ok.email]
    assert project.title in subject and "25,00" in text  # German by default, with the amount charged
    subject, text = sent[declined.email]
    assert subject.startswith("Action required") and "10.00" in text and "7 days" in text
    assert f"https://crowdfunding.example/pledges/{late.id}/payment" in text


def test_settle_mails_backers_of_an_unfunded_campaign_that_nothing_was_charged(runner, session, fake, inbox):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=100_000)
    backer = make_backers(session, 1)[0]
    backer.locale = "en"
    session.commit()
    make_active_pledge(session, project, backer, 2_500, fake)
    make_pledge(session, project, backer, 500, status="cancelled")  # one open pledge per backer and project

    result = runner.invoke(args=["settle"])

    assert result.exit_code == 0 and "0 funded, 1 not funded" in result.output
    assert len(inbox) == 1  # one mail per backer
    subject, text = mails(inbox)[backer.email]
    assert "not funded" in subject and "nothing has been charged" in text


def test_settle_as_of_a_given_moment(runner, session, fake):
    project = make_due_campaign(session, make_campaign_world(session),
                                deadline=datetime.now(UTC) + timedelta(days=2))
    assert "Closed 0 campaign(s)" in runner.invoke(args=["settle"]).output

    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    result = runner.invoke(args=["settle", "--now", later])

    assert result.exit_code == 0 and f"not funded: {project.slug}" in result.output


def test_settle_refuses_a_moment_that_is_not_iso_8601(runner, fake):
    result = runner.invoke(args=["settle", "--now", "next tuesday"])
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_a_provider_outage_is_reported_but_is_no_error(runner, session, fake):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    make_active_pledge(session, project, make_backers(session, 1)[0], 2_500, fake)
    fake.fail_next(1, method="charge_off_session")

    result = runner.invoke(args=["settle"])

    assert result.exit_code == 0 and "1 unknown (retried next run)" in result.output
    assert runner.invoke(args=["settle"]).output.count("Recovered 1 earlier attempt(s)") == 1


def test_a_misconfigured_provider_makes_the_command_fail(runner, session, fake, monkeypatch):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    make_active_pledge(session, project, make_backers(session, 1)[0], 2_500, fake)

    def refuse(**kwargs):
        raise PaymentError("Invalid API Key provided")

    monkeypatch.setattr(fake, "charge_off_session", refuse)
    result = runner.invoke(args=["settle"])

    assert result.exit_code == 1 and "ERROR: provider refused our request: Invalid API Key" in result.output


def test_without_a_provider_the_command_says_so(app, runner):
    app.extensions["payment_gateway"] = None
    result = runner.invoke(args=["settle"])
    assert result.exit_code == 1 and "No payment provider is configured" in result.output


def test_settle_takes_its_concurrency_and_rate_limit_from_the_command_line(runner, session, fake):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    backers = make_backers(session, 3)
    for backer in backers:
        make_active_pledge(session, project, backer, 2_500, fake)

    result = runner.invoke(args=["settle", "--concurrency", "1", "--max-per-second", "50"])

    assert result.exit_code == 0, result.output
    assert "charged 3" in result.output
    assert sorted(fake.payment_intents_created.values()) == [1, 1, 1]
    refused = runner.invoke(args=["settle", "--concurrency", "0"])
    assert refused.exit_code == 2 and "--concurrency" in refused.output
