"""Settlement with the in-process fake provider: all or nothing, exactly once, recovery after lost answers
and crashes, the fix window."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services import settlement
from crowdfund.services.charges import Notice
from crowdfund.services.settlement import SettlementReport, settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign, make_pledge


@pytest.fixture
def fake() -> FakeGateway:
    """Behaves like localstripe: idempotency keys are not honoured, only our records prevent a second charge."""
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def world(session):
    return make_campaign_world(session)


@pytest.fixture
def notices() -> list[Notice]:
    return []


@pytest.fixture
def run(app, fake, notices):
    def run_settle(now: datetime | None = None, gateway: object = None) -> SettlementReport:
        return settle(app.extensions["db_sessionmaker"], gateway or fake, now=now or datetime.now(UTC),
                      fix_window_days=7, notify=notices.append)

    return run_settle


def funded_project(session, world, fake, methods=("pm_card_visa", "pm_card_visa", "pm_card_visa"), amount=5_000):
    """A campaign past its deadline whose active pledges (one per method) reach its threshold."""
    project = make_due_campaign(session, world, threshold_cents=amount)
    pledges = [make_active_pledge(session, project, make_backer(session), amount, fake, method=m) for m in methods]
    return project, pledges


def fresh(session, model, row_id):
    session.expire_all()
    return session.get(model, row_id)


def statuses(session, pledges) -> list[str]:
    session.expire_all()
    return [session.get(Pledge, p.id).status for p in pledges]


def ledger_lines(session, kind: str = "charge") -> list[LedgerEntry]:
    session.expire_all()
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id)))


def created(fake: FakeGateway, pledges) -> list[int]:
    return [fake.payment_intents_created[str(p.id)] for p in pledges]


def test_a_campaign_below_its_threshold_releases_every_pledge_and_charges_nothing(session, world, fake, run, notices):
    project = make_due_campaign(session, world, threshold_cents=100_000)
    backers = [make_backer(session) for _ in range(2)]
    pledges = [make_active_pledge(session, project, b, 10_000, fake) for b in backers]
    pending = make_pledge(session, project, make_backer(session), 3_000, status="pending_setup")

    report = run()

    assert fresh(session, Project, project.id).state == "not_funded"
    assert statuses(session, [*pledges, pending]) == ["released", "released", "released"]
    assert fake.payment_intents_created == Counter() and "charge_off_session" not in fake.calls
    assert (report.not_funded, report.released, report.charged) == ([project.slug], 3, 0)
    assert sorted((n.kind, n.email, n.amount_cents) for n in notices) == sorted(
        ("campaign_not_funded", b.email, 10_000) for b in backers)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "project",
                                                              AuditEntry.entity_id == project.id)).all()
    assert actions == ["end", "mark_not_funded"]


def test_a_funded_campaign_charges_each_active_pledge_exactly_once(session, world, fake, run, notices):
    project, pledges = funded_project(session, world, fake)

    report = run()

    assert fresh(session, Project, project.id).state == "funded"
    assert statuses(session, pledges) == ["paid"] * 3
    assert created(fake, pledges) == [1, 1, 1]
    assert report.charged == 3 and report.funded == [project.slug]
    session.expire_all()
    for pledge in pledges:
        row = session.get(Pledge, pledge.id)
        attempt = session.scalars(select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledge.id)).one()
        assert (row.paid_cents, row.payment_intent_id) == (5_000, attempt.payment_intent_id)
        assert (attempt.status, attempt.idempotency_key) == ("succeeded", f"pledge-{pledge.id}-charge-1")
        assert fake.payment_intents[row.payment_intent_id].metadata == {"pledge_id": str(pledge.id), "attempt": "1"}
    assert [(e.pledge_id, e.amount_cents, e.provider_ref) for e in ledger_lines(session)] == [
        (p.id, 5_000, session.get(Pledge, p.id).payment_intent_id) for p in pledges]
    assert sorted(n.kind for n in notices) == ["campaign_funded"] * 3


def test_a_second_run_charges_nothing_more(session, world, fake, run, notices):
    _project, pledges = funded_project(session, world, fake)
    run()
    mails = len(notices)

    report = run()

    assert created(fake, pledges) == [1, 1, 1]
    assert (report.charged, report.ended, report.recovered) == (0, [], 0)
    assert len(ledger_lines(session)) == 3 and len(notices) == mails


def test_a_declined_card_needs_the_backer_and_they_are_mailed_a_link(session, world, fake, run, notices):
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_visa", "pm_card_chargeDeclined"))

    report = run()

    assert statuses(session, pledges) == ["paid", "action_required"]
    declined = fresh(session, Pledge, pledges[1].id)
    assert declined.payment_intent_id in fake.payment_intents and declined.action_required_at is not None
    assert (report.charged, report.action_required) == (1, 1)
    assert [(n.kind, n.pledge_id) for n in notices if n.kind != "campaign_funded"] == [("action_required",
                                                                                        declined.id)]
    assert fresh(session, Project, _project.id).state == "funded"  # the campaign stays funded


def test_a_card_that_needs_3d_secure_needs_the_backer_with_its_payment_intent_kept(session, world, fake, run):
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_authenticationRequired",))

    run()

    pledge = fresh(session, Pledge, pledges[0].id)
    assert pledge.status == "action_required"
    assert fake.payment_intents[pledge.payment_intent_id].last_error_code == "authentication_required"
    attempt = session.scalars(select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledge.id)).one()
    assert (attempt.status, attempt.error_code) == ("needs_backer", "authentication_required")


def test_a_pledge_not_fixed_within_the_fix_window_fails_and_the_backer_is_told(session, world, fake, run, notices):
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_chargeDeclined",))
    run()

    assert run(now=datetime.now(UTC) + timedelta(days=6)).failed == 0
    assert statuses(session, pledges) == ["action_required"]
    report = run(now=datetime.now(UTC) + timedelta(days=7, minutes=1))

    assert report.failed == 1 and statuses(session, pledges) == ["failed"]
    assert [n.kind for n in notices] == ["action_required", "payment_failed"]
    assert created(fake, pledges) == [1]


def test_a_pledge_paid_just_before_the_window_closed_is_marked_paid_not_failed(session, world, fake, run):
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_authenticationRequired",))
    run()
    fake.complete_authentication(fresh(session, Pledge, pledges[0].id).payment_intent_id)  # no webhook came

    report = run(now=datetime.now(UTC) + timedelta(days=8))

    assert (report.failed, report.charged) == (0, 1)
    assert statuses(session, pledges) == ["paid"] and len(ledger_lines(session)) == 1


def test_a_lost_answer_after_the_charge_is_recovered_without_a_second_payment_intent(session, world, fake, run):
    _project, pledges = funded_project(session, world, fake)
    fake.fail_next(1, when="after", method="charge_off_session")

    first = run()

    assert first.unknown == 1 and statuses(session, pledges) == ["charging", "paid", "paid"]
    attempt = session.scalars(select(PaymentAttempt).where(PaymentAttempt.pledge_id == pledges[0].id)).one()
    assert (attempt.status, attempt.payment_intent_id) == ("unknown", None)

    second = run()

    assert second.recovered == 1 and statuses(session, pledges) == ["paid"] * 3
    assert created(fake, pledges) == [1, 1, 1]
    assert "find_payment_intents" in fake.calls and len(ledger_lines(session)) == 3
    session.expire_all()
    assert session.scalar(select(func.count(PaymentAttempt.id))) == 3


def test_a_call_lost_before_the_provider_saw_it_is_sent_again_with_the_same_key(session, world, fake, run):
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_visa",))
    fake.fail_next(1, when="before", method="charge_off_session")
    run()
    assert created(fake, pledges) == [0]

    run()

    assert created(fake, pledges) == [1] and statuses(session, pledges) == ["paid"]
    session.expire_all()
    attempts = session.scalars(select(PaymentAttempt)).all()
    assert [(a.attempt_no, a.status) for a in attempts] == [(1, "succeeded")]


class Crash(BaseException):
    """A process dying mid-run (not an Exception: nothing in the code under test may swallow it)."""


class CrashingGateway:
    """Dies around the first off-session charge: before sending it, or after the provider made it."""

    def __init__(self, inner: FakeGateway, when: str) -> None:
        self.inner, self.when, self.crashed = inner, when, False

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def charge_off_session(self, **kwargs):
        if self.crashed:
            return self.inner.charge_off_session(**kwargs)
        self.crashed = True
        if self.when == "before":
            raise Crash("killed between recording the attempt and the call")
        self.inner.charge_off_session(**kwargs)
        raise Crash("killed after the charge, before the commit")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_around_the_provider_call_never_makes_a_second_payment_intent(session, world, fake, run, when):
    _project, pledges = funded_project(session, world, fake)
    with pytest.raises(Crash):
        run(gateway=CrashingGateway(fake, when))
    assert statuses(session, pledges)[0] == "charging"  # the attempt was committed before the call

    report = run()

    assert statuses(session, pledges) == ["paid"] * 3
    assert created(fake, pledges) == [1, 1, 1]
    assert report.recovered == 3  # the whole claimed batch had been recorded; each is looked up first
    assert len(ledger_lines(session)) == 3


def test_with_the_provider_down_the_run_stops_early_and_the_next_run_charges_once(session, world, fake, run,
                                                                                  monkeypatch):
    monkeypatch.setattr(settlement, "MAX_UNAVAILABLE_IN_A_ROW", 2)
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_visa",) * 4)
    fake.fail_next(2, when="after", method="charge_off_session")

    first = run()

    assert (first.unknown, first.charged) == (2, 0) and first.warnings
    session.expire_all()
    assert sorted(a.status for a in session.scalars(select(PaymentAttempt))) == [
        "not_sent", "not_sent", "unknown", "unknown"]
    calls_before = fake.calls.count("find_payment_intents")

    second = run()

    assert second.charged == 4 and statuses(session, pledges) == ["paid"] * 4
    assert created(fake, pledges) == [1, 1, 1, 1]
    assert fake.calls.count("find_payment_intents") - calls_before == 2  # never-sent attempts need no lookup


def test_a_sepa_debit_waits_in_processing_and_the_campaign_mail_says_so(session, world, fake, run, notices):
    _project, pledges = funded_project(session, world, fake, methods=("pm_sepa_debit",))

    report = run()

    assert report.processing == 1 and statuses(session, pledges) == ["processing"]
    assert [(n.kind, n.sepa) for n in notices] == [("campaign_funded", True)]
    assert ledger_lines(session) == []  # booked when the money arrives (webhook)


def test_matches_that_count_toward_the_threshold_fund_the_campaign_and_reach_the_ledger(session, world, fake, run):
    project = make_due_campaign(session, world, threshold_cents=10_000)
    pot = MatchingPot(sponsor_name="Wirtschaftsförderung", budget_cents=50_000, ratio_percent=100,
                      counts_toward_threshold=True)
    session.add(pot)
    session.commit()
    pledge = make_active_pledge(session, project, make_backer(session), 6_000, fake)
    session.add(Match(pot_id=pot.id, pledge_id=pledge.id, project_id=project.id, backer_id=pledge.backer_id,
                      amount_cents=6_000))
    session.commit()

    run()

    assert fresh(session, Project, project.id).state == "funded"
    assert session.scalars(select(Match.status)).one() == "realised"
    assert [(e.kind, e.amount_cents, e.pot_id) for e in ledger_lines(session, "match")] == [("match", 6_000, pot.id)]


def test_a_pot_that_does_not_count_toward_the_threshold_does_not_fund_and_is_released(session, world, fake, run):
    project = make_due_campaign(session, world, threshold_cents=10_000)
    pot = MatchingPot(sponsor_name="Stiftung", budget_cents=50_000, ratio_percent=100, counts_toward_threshold=False)
    session.add(pot)
    session.commit()
    pledge = make_active_pledge(session, project, make_backer(session), 6_000, fake)
    session.add(Match(pot_id=pot.id, pledge_id=pledge.id, project_id=project.id, backer_id=pledge.backer_id,
                      amount_cents=6_000))
    session.commit()

    run()

    assert fresh(session, Project, project.id).state == "not_funded"
    assert session.scalars(select(Match.status)).one() == "released" and ledger_lines(session, "match") == []


def test_pledges_never_set_up_are_released_when_the_campaign_is_funded(session, world, fake, run):
    project, pledges = funded_project(session, world, fake, methods=("pm_card_visa",))
    pending = make_pledge(session, project, make_backer(session), 2_000, status="pending_setup")

    run()

    assert statuses(session, [*pledges, pending]) == ["paid", "released"]


def test_campaigns_still_running_are_left_alone(session, world, fake, run):
    running = make_due_campaign(session, world, deadline=datetime.now(UTC) + timedelta(hours=1))
    make_active_pledge(session, running, make_backer(session), 50_000, fake)

    report = run()

    assert report.ended == [] and fresh(session, Project, running.id).state == "live"
    assert fake.calls.count("charge_off_session") == 0


def test_settling_as_of_a_later_moment_closes_the_campaigns_due_by_then(session, world, fake, run):
    later = datetime.now(UTC) + timedelta(days=3)
    project = make_due_campaign(session, world, deadline=later - timedelta(minutes=1))

    assert run(now=later).not_funded == [project.slug]


def test_released_and_failed_pledges_give_their_reward_unit_back(session, world, fake, run):
    from crowdfund.models.rewards import Reward
    from tests.factories import make_reward

    unfunded = make_due_campaign(session, world, threshold_cents=100_000)
    funded, _pledges = funded_project(session, world, fake, methods=())
    rewards = [make_reward(session, p, quantity_total=5, quantity_claimed=1) for p in (unfunded, funded)]
    released = make_active_pledge(session, unfunded, make_backer(session), 2_000, fake)
    failing = make_active_pledge(session, funded, make_backer(session), 6_000, fake, method="pm_card_chargeDeclined")
    released.reward_id, failing.reward_id = rewards[0].id, rewards[1].id
    session.commit()

    run()
    run(now=datetime.now(UTC) + timedelta(days=8))

    assert statuses(session, [released, failing]) == ["released", "failed"]
    assert [session.get(Reward, r.id).quantity_claimed for r in rewards] == [0, 0]


def test_a_pledge_confirmed_after_its_campaign_was_decided_is_released_by_the_next_run(session, world, fake, run,
                                                                                      notices):
    project = make_due_campaign(session, world, threshold_cents=100_000)
    run()
    late = make_active_pledge(session, project, make_backer(session), 2_000, fake)  # a confirmation in flight

    report = run()

    assert report.released == 1 and statuses(session, [late]) == ["released"]
    assert [n.kind for n in notices] == ["campaign_not_funded"] and fake.calls.count("charge_off_session") == 0


def test_a_never_sent_charge_whose_resend_is_lost_is_looked_up_before_any_further_send(session, world, fake, run,
                                                                                        monkeypatch):
    monkeypatch.setattr(settlement, "MAX_UNAVAILABLE_IN_A_ROW", 1)
    _project, pledges = funded_project(session, world, fake, methods=("pm_card_visa",) * 2)
    fake.fail_next(1, when="before", method="charge_off_session")
    run()  # the first charge is lost before the provider; the second is never sent
    fake.fail_next(2, when="after", method="charge_off_session")

    run()  # recovery: the first is looked up (nothing) and sent, the second sent; both answers lost

    session.expire_all()
    assert sorted(session.scalars(select(PaymentAttempt.status))) == ["unknown", "unknown"]
    run()
    assert created(fake, pledges) == [1, 1] and statuses(session, pledges) == ["paid", "paid"]
