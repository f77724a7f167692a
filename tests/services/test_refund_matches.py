"""A refund books the pledge's realised match back to its pot: in proportion for a part (whole cents, rounded
down), all of it for a full refund; a negative match line on the ledger, the pot's budget restored, audited,
once per refund."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.domain.matching import match_after_refund
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.models.pledges import Pledge
from crowdfund.services import finance, ledger, matching
from crowdfund.services.refunds import next_sequence, refund_pledge
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign

BUDGET = 100_000


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def pot(session) -> MatchingPot:
    """A third on top of each pledge (ratio 33 %), at most 20 EUR per pledge."""
    row = MatchingPot(sponsor_name="Wirtschaftsförderung", budget_cents=BUDGET, ratio_percent=33,
                      cap_per_pledge_cents=2_000, district_slugs=[], categories=[], counts_toward_threshold=True)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def paid(app, session, fake, pot) -> Pledge:
    """A pledge of 50 EUR with a 16.50 EUR match, charged at settlement (the match realised)."""
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 5_000, fake)
    assert matching.reserve_match(session, pledge).amount_cents == 1_650
    session.commit()
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    pledge = session.get(Pledge, pledge.id)
    assert pledge.status == "paid" and the_match(session, pledge).status == "realised"
    return pledge


def refund(session, fake, pledge, amount_cents: int | None, sequence: int | None = None):
    seq = sequence if sequence is not None else next_sequence(session, pledge.id)
    done = refund_pledge(session, fake, pledge.id, amount_cents=amount_cents, sequence=seq, actor_id=None)
    session.commit()
    session.expire_all()
    return done


def the_match(session, pledge) -> Match:
    return session.scalars(select(Match).where(Match.pledge_id == pledge.id)).one()


def match_lines(session, pledge) -> list[int]:
    return list(session.scalars(select(LedgerEntry.amount_cents).where(
        LedgerEntry.pledge_id == pledge.id, LedgerEntry.kind == "match").order_by(LedgerEntry.id)))


def test_a_full_refund_reverses_the_match_and_restores_the_pots_budget(session, fake, pot, paid):
    assert matching.pot_remaining(session, pot) == BUDGET - 1_650

    refund(session, fake, paid, None)

    match = the_match(session, paid)
    assert (match.status, match.amount_cents) == ("reversed", 0)
    assert match_lines(session, paid) == [1_650, -1_650]
    line = session.scalars(select(LedgerEntry).where(LedgerEntry.amount_cents == -1_650)).one()
    assert (line.pot_id, line.project_id, line.idempotency_key) == (pot.id, paid.project_id,
                                                                    f"pledge-{paid.id}-refund-1-match")
    assert matching.pot_remaining(session, pot) == BUDGET and ledger.pot_total(session, pot.id) == 0
    assert matching.project_matched(session, paid.project_id) == 0
    assert ledger.project_balance(session, paid.project_id) == 0


def test_partial_refunds_shrink_the_match_in_proportion_rounded_down(session, fake, pot, paid):
    refund(session, fake, paid, 1_000)  # kept 40 of 50 EUR: the match keeps 1650 * 4000 / 5000 = 1320
    assert (the_match(session, paid).status, the_match(session, paid).amount_cents) == ("realised", 1_320)
    refund(session, fake, paid, 1_001)  # kept 29.99 EUR: 1650 * 2999 / 5000 = 989.67 -> 989
    assert the_match(session, paid).amount_cents == 989
    assert matching.pot_remaining(session, pot) == BUDGET - 989 and ledger.pot_total(session, pot.id) == 989
    refund(session, fake, paid, None)  # the rest: nothing is kept

    assert match_lines(session, paid) == [1_650, -330, -331, -989]
    assert (the_match(session, paid).status, matching.pot_remaining(session, pot)) == ("reversed", BUDGET)
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "match").order_by(AuditEntry.id)).all()
    assert [(r.action, r.from_state, r.to_state) for r in rows][-3:] == [
        ("reduce", "realised", "realised"), ("reduce", "realised", "realised"), ("reverse", "realised", "reversed")]
    assert "330 cents back to pot" in rows[-3].reason


def test_a_repeated_refund_books_the_match_back_once(session, fake, pot, paid):
    refund(session, fake, paid, 2_500, sequence=1)
    again = refund(session, fake, paid, 2_500, sequence=1)
    assert again.repeated and match_lines(session, paid) == [1_650, -825]
    pledge = session.get(Pledge, paid.id)
    key = f"pledge-{paid.id}-refund-1-match"
    assert matching.reverse_match_after_refund(session, pledge, key=key) == 0
    assert the_match(session, paid).amount_cents == 825 and matching.pot_remaining(session, pot) == BUDGET - 825


def test_the_finance_figures_net_the_match_reversal(session, fake, pot, paid):
    refund(session, fake, paid, 1_000)
    figures = finance.figures_by_project(session, finance.FinanceFilter())[paid.project_id]
    assert (figures.charged, figures.refunded, figures.matched) == (5_000, 1_000, 1_320)
    assert figures.outstanding == 5_000 + 1_320 - 1_000


def test_a_refund_of_a_pledge_without_a_match_books_no_match_line(app, session, fake):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledge = make_active_pledge(session, project, make_backer(session), 5_000, fake)
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    refund(session, fake, session.get(Pledge, pledge.id), None)
    assert match_lines(session, pledge) == []


@pytest.mark.parametrize(("realised", "paid", "refunded", "keeps"), [
    (1_650, 5_000, 0, 1_650), (1_650, 5_000, 5_000, 0), (1_650, 5_000, 1_000, 1_320), (1_650, 5_000, 2_001, 989),
    (1, 3, 1, 0), (2_000, 3_333, 1, 1_999), (0, 5_000, 100, 0), (500, 5_000, 9_999, 0),
])
def test_the_match_keeps_its_share_of_what_was_kept_rounded_down(realised, paid, refunded, keeps):
    assert match_after_refund(realised, paid, refunded) == keeps
    assert keeps <= realised and keeps * paid <= realised * max(0, paid - refunded)  # never above its ratio or cap
