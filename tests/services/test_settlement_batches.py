"""Set-based batches and sender threads: claiming and recording many pledges at once writes exactly what the
one-pledge path writes (attempt, status, audit trail, ledger line, mail), every outcome in a batch is handled,
and a crash among several sender threads still never leads to a second PaymentIntent."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.services.charges import Notice
from crowdfund.services.ledger import LedgerConflict
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backers, make_campaign_world, make_due_campaign

METHODS = ["pm_card_visa", "pm_card_chargeDeclined", "pm_card_authenticationRequired", "pm_sepa_debit"]


class Serialised:
    """The fake provider shared by sender threads: one call at a time, as one remote provider would."""

    def __init__(self, inner: FakeGateway) -> None:
        self.inner, self.lock = inner, threading.Lock()

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            with self.lock:
                return method(*args, **kwargs)

        return call


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def notices() -> list[Notice]:
    return []


@pytest.fixture
def run(app, fake, notices):
    def run_settle(gateway=None, **options):
        return settle(app.extensions["db_sessionmaker"], gateway or Serialised(fake), now=datetime.now(UTC),
                      fix_window_days=7, notify=notices.append, **options)

    return run_settle


def campaign(session, fake, methods, amount=2_000):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    return project, [make_active_pledge(session, project, backer, amount, fake, method=method)
                     for backer, method in zip(make_backers(session, len(methods)), methods, strict=True)]


def trail(session, pledge_id: int) -> list[tuple[str, str, str]]:
    return [(a.action, a.from_state, a.to_state) for a in session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "pledge", AuditEntry.entity_id == pledge_id).order_by(AuditEntry.id))]


def test_many_pledges_with_every_outcome_in_batches_from_four_threads(session, fake, run, notices):
    methods = METHODS * 8  # 32 pledges, batches of 5 spread over 4 sender threads
    project, pledges = campaign(session, fake, methods)
    pot = MatchingPot(sponsor_name="Wirtschaftsförderung", budget_cents=100_000, ratio_percent=100,
                      counts_toward_threshold=False)
    session.add(pot)
    session.commit()
    matched = pledges[4]  # a card pledge with a match: recorded through the one-pledge path
    session.add(Match(pot_id=pot.id, pledge_id=matched.id, project_id=project.id, backer_id=matched.backer_id,
                      amount_cents=1_000))
    session.commit()

    report = run(concurrency=4, batch_size=5)

    assert (report.charged, report.action_required, report.processing, report.unknown) == (8, 16, 8, 0)
    assert [fake.payment_intents_created[str(p.id)] for p in pledges] == [1] * 32
    session.expire_all()
    expected = {"pm_card_visa": "paid", "pm_card_chargeDeclined": "action_required",
                "pm_card_authenticationRequired": "action_required", "pm_sepa_debit": "processing"}
    assert [session.get(Pledge, p.id).status for p in pledges] == [expected[m] for m in methods]
    paid = [p for p, m in zip(pledges, methods, strict=True) if m == "pm_card_visa"]
    lines = {e.pledge_id: e for e in session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "charge"))}
    assert set(lines) == {p.id for p in paid}
    for pledge in paid:
        row = session.get(Pledge, pledge.id)
        attempt = session.scalars(select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledge.id)).one()
        assert (attempt.status, attempt.payment_intent_id, attempt.idempotency_key) == (
            "succeeded", row.payment_intent_id, f"pledge-{pledge.id}-charge-1")
        assert (row.paid_cents, row.paid_at is not None) == (2_000, True)
        assert (lines[pledge.id].amount_cents, lines[pledge.id].provider_ref) == (2_000, row.payment_intent_id)
        assert lines[pledge.id].idempotency_key == f"charge-{row.payment_intent_id}"
        assert trail(session, pledge.id) == [("start_charge", "active", "charging"), ("mark_paid", "charging", "paid")]
    assert session.scalars(select(Match.status)).one() == "realised"
    assert [e.pledge_id for e in session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "match"))] == [
        matched.id]
    assert Counter(n.kind for n in notices) == Counter(campaign_funded=16, action_required=16)
    assert len({n.pledge_id for n in notices}) == 32  # one mail per pledge, after its batch committed


def test_a_charge_line_already_booked_by_a_webhook_is_not_booked_twice(session, fake, run, app):
    _project, (pledge,) = campaign(session, fake, ["pm_card_visa"])
    session.add(LedgerEntry(kind="charge", amount_cents=2_000, currency="EUR", project_id=pledge.project_id,
                            pledge_id=pledge.id, provider_ref="pi_fake_0001", idempotency_key="charge-pi_fake_0001"))
    session.commit()

    assert run().charged == 1

    session.expire_all()
    assert [(e.amount_cents, e.provider_ref) for e in session.scalars(select(LedgerEntry))] == [(2_000, "pi_fake_0001")]


def test_a_ledger_key_naming_another_movement_stops_the_batch_and_changes_nothing(session, fake, run):
    _project, pledges = campaign(session, fake, ["pm_card_visa", "pm_card_visa"])
    session.add(LedgerEntry(kind="charge", amount_cents=999, currency="EUR", project_id=pledges[0].project_id,
                            pledge_id=pledges[0].id, provider_ref="pi_fake_0001",
                            idempotency_key="charge-pi_fake_0001"))
    session.commit()

    with pytest.raises(LedgerConflict):
        run()

    session.expire_all()
    assert {session.get(Pledge, p.id).status for p in pledges} == {"charging"}  # recorded before the calls
    assert session.scalars(select(PaymentAttempt.status)).all() == ["started", "started"]


class Crash(BaseException):
    """A process dying mid-run (not an Exception: nothing in the code under test may swallow it)."""


class CrashesOnce:
    """One sender thread dies in its call after the provider charged; the others go on meanwhile."""

    def __init__(self, inner) -> None:
        self.inner, self.lock, self.crashed = inner, threading.Lock(), False

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs):
        info = self.inner.charge_off_session(**kwargs)
        with self.lock:
            crash, self.crashed = not self.crashed, True
        if crash:
            raise Crash("killed after the charge, before the commit")
        return info


def test_a_crash_in_one_sender_thread_never_leads_to_a_second_payment_intent(session, fake, run):
    _project, pledges = campaign(session, fake, ["pm_card_visa"] * 12)

    with pytest.raises(Crash):
        run(CrashesOnce(Serialised(fake)), concurrency=3, batch_size=4)
    report = run(concurrency=3, batch_size=4)

    session.expire_all()
    assert {session.get(Pledge, p.id).status for p in pledges} == {"paid"}
    assert [fake.payment_intents_created[str(p.id)] for p in pledges] == [1] * 12
    assert report.recovered >= 1  # the crashed batch's attempts were looked up before anything was sent again
    assert len(session.scalars(select(LedgerEntry)).all()) == 12
