"""Finance refunds a paid pledge from the project's payments page; the backer gets a mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund import mail
from crowdfund.domain.roles import Role
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services import ledger
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.conftest import CSRF_RE
from tests.factories import PASSWORD, make_active_pledge, make_backer, make_campaign_world, make_due_campaign, make_user


@pytest.fixture
def fake(app) -> FakeGateway:
    gateway = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = gateway
    return gateway


@pytest.fixture
def paid(app, session, fake) -> Pledge:
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 4_000, fake)
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    return session.get(Pledge, pledge.id)


@pytest.fixture
def inbox(app, smtp_server):
    host, port, messages = smtp_server
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port)
    mail.init_app(app)
    return messages


@pytest.fixture
def finance(session, auth):
    user = make_user(session, Role.FINANCE, name="Fiona Finance")
    user.locale = "en"  # the pages' words below are English
    session.commit()
    auth.login(user.email, PASSWORD)
    return user


def form_of(client, pledge: Pledge) -> dict[str, str]:
    html = client.get(f"/finance/pledges/{pledge.id}/refund").get_data(as_text=True)
    return {"csrf_token": CSRF_RE.search(html).group(1),
            "sequence": re.search(r'name="sequence" type="hidden" value="(\d+)"', html).group(1)}


def refund(client, pledge: Pledge, amount: str, form: dict[str, str] | None = None):
    data = {**(form or form_of(client, pledge)), "amount": amount, "note": "Backer asked"}
    return client.post(f"/finance/pledges/{pledge.id}/refund", data=data)


def refunded(session, pledge: Pledge) -> tuple[str, int, list[int]]:
    session.expire_all()
    row = session.get(Pledge, pledge.id)
    lines = session.scalars(select(LedgerEntry.amount_cents).where(LedgerEntry.pledge_id == pledge.id,
                                                                   LedgerEntry.kind == "refund")).all()
    return row.status, row.refunded_cents, lines


def test_finance_refunds_part_of_a_pledge_and_the_backer_is_mailed(client, session, fake, paid, finance, inbox):
    page = client.get(f"/finance/projects/{paid.project_id}/payments").get_data(as_text=True)
    assert f"/finance/pledges/{paid.id}/refund" in page

    response = refund(client, paid, "15,50")

    assert response.status_code == 302
    assert refunded(session, paid) == ("partially_refunded", 1_550, [-1_550])
    assert fake.refunded_cents(paid.payment_intent_id) == 1_550
    _sender, recipients, message = inbox[-1]
    assert recipients == [paid.backer.email] and "15,50" in message.get_content()


def test_an_empty_amount_refunds_everything_left(client, session, fake, paid, finance):
    refund(client, paid, "10")
    refund(client, paid, "")
    assert refunded(session, paid) == ("refunded", 4_000, [-1_000, -3_000])
    assert ledger.project_balance(session, paid.project_id) == 0


def test_more_than_what_is_left_is_refused_and_nothing_is_sent(client, session, fake, paid, finance):
    response = refund(client, paid, "40,01")
    assert response.status_code == 422 and "at most what is left" in response.get_data(as_text=True)
    assert refunded(session, paid) == ("paid", 0, []) and fake.refunds == {}


def test_the_same_form_sent_twice_refunds_once(client, session, fake, paid, finance):
    form = form_of(client, paid)
    assert refund(client, paid, "5", form).status_code == 302
    assert refund(client, paid, "5", form).status_code == 302  # a double click: the first refund again
    assert refunded(session, paid) == ("partially_refunded", 500, [-500]) and len(fake.refunds) == 1


def test_an_old_form_after_another_refund_is_refused(client, session, fake, paid, finance):
    old = form_of(client, paid)
    refund(client, paid, "5")
    refund(client, paid, "5", {**old, "sequence": "1"})  # shown before the first refund was made
    response = refund(client, paid, "7", {**old, "sequence": "3"})
    assert response.status_code == 409 and "in the meantime" in response.get_data(as_text=True)
    assert refunded(session, paid)[2] == [-500]


def test_no_refund_after_the_payout(client, session, fake, paid, finance):
    ledger.post_entry(session, kind="payout", amount_cents=-4_000, project_id=paid.project_id, provider_ref=None,
                      idempotency_key="payout-test", actor_id=None)
    session.commit()
    form = {"csrf_token": CSRF_RE.search(client.get("/").get_data(as_text=True)).group(1), "sequence": "1"}
    response = refund(client, paid, "5", form)
    assert response.status_code == 409 and fake.refunds == {}


def test_backers_and_initiators_cannot_refund(client, session, fake, paid, auth):
    user = make_user(session, Role.INITIATOR)
    auth.login(user.email, PASSWORD)
    assert client.get(f"/finance/pledges/{paid.id}/refund").status_code == 403
    assert client.get(f"/finance/projects/{paid.project_id}/payments").status_code == 403
