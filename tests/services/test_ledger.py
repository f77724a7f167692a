"""The ledger: append-only lines with idempotency keys; campaign and pot figures are its sums."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.services import ledger
from crowdfund.services.campaigns import campaign_totals
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign


@pytest.fixture
def project(session):
    return make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)


def post(session, project, **overrides):
    values = {"kind": "charge", "amount_cents": 2_500, "project_id": project.id, "provider_ref": "pi_1",
              "idempotency_key": "charge-pi_1", "actor_id": None, **overrides}
    entry = ledger.post_entry(session, **values)
    session.commit()
    return entry


def test_a_line_posted_twice_with_the_same_key_is_stored_once(session, project):
    first, second = post(session, project), post(session, project)
    assert first.id == second.id
    assert session.scalar(select(func.count(LedgerEntry.id))) == 1


def test_the_same_key_for_another_movement_is_refused(session, project):
    post(session, project)
    with pytest.raises(ledger.LedgerConflict):
        post(session, project, amount_cents=9_999)


@pytest.mark.parametrize(("kind", "amount"), [("charge", -100), ("refund", 100), ("payout", 5), ("match", 0),
                                              ("gift", 100)])
def test_lines_carry_the_sign_of_their_kind(session, project, kind, amount):
    with pytest.raises(ValueError):
        post(session, project, kind=kind, amount_cents=amount)


def test_balances_are_sums_of_the_lines(session, project):
    post(session, project)
    post(session, project, kind="refund", amount_cents=-500, idempotency_key="refund-1", provider_ref="re_1")
    post(session, project, kind="match", amount_cents=1_000, idempotency_key="match-1", provider_ref=None)
    assert ledger.project_balance(session, project.id) == 3_000
    assert ledger.project_totals(session, project.id) == {"charge": 2_500, "refund": -500, "match": 1_000}
    assert not ledger.payout_approved(session, project.id)
    post(session, project, kind="payout", amount_cents=-3_000, idempotency_key="payout-1", provider_ref=None)
    assert ledger.payout_approved(session, project.id) and ledger.project_balance(session, project.id) == 0


def test_after_settlement_the_campaign_totals_equal_the_ledger_sums(app, session, project):
    fake = FakeGateway(honour_idempotency_keys=False)
    pot = MatchingPot(sponsor_name="Sparkasse", budget_cents=100_000, ratio_percent=50,
                      counts_toward_threshold=True)
    session.add(pot)
    session.commit()
    pledges = [make_active_pledge(session, project, make_backer(session), cents, fake)
               for cents in (1_000, 2_345, 10_000)]
    for pledge in pledges:
        session.add(Match(pot_id=pot.id, pledge_id=pledge.id, project_id=project.id, backer_id=pledge.backer_id,
                          amount_cents=pledge.amount_cents // 2))
    session.commit()

    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)

    session.expire_all()
    pledged, backers = campaign_totals(session, project.id)
    totals = ledger.project_totals(session, project.id)
    assert (pledged, backers) == (13_345, 3)
    assert totals == {"charge": 13_345, "match": 6_672}
    assert ledger.pot_total(session, pot.id) == 6_672 == sum(m.amount_cents for m in session.scalars(select(Match)))
    provider_total = sum(pi.amount_cents for pi in fake.payment_intents.values() if pi.status == "succeeded")
    assert provider_total == totals["charge"]  # ledger == provider
