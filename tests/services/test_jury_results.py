"""Results: the crowd index (team's own and small pledges left out, frozen at the deadline), the offset
model end to end, the final ranking, prizes, the decision and publication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction as F

import pytest
from sqlalchemy import func, select

from crowdfund.domain.jury import PhaseAction
from crowdfund.models.audit import AuditEntry
from crowdfund.models.jury import CrowdSnapshot
from crowdfund.services import jury, jury_results
from crowdfund.services.jury import JuryError
from tests.factories import make_backers, make_pledge
from tests.services.test_jury_world import make_jury_world, move, score

NOW = datetime.now(UTC)
ONE_CRITERION = (("Overall", "1", 0, 10),)


def pledge(session, entry, backer, cents, *, status="active", at=None):
    """A pledge made during the campaign (a day before its deadline unless `at` says otherwise)."""
    made = make_pledge(session, entry, backer, cents, status=status)
    made.created_at = at or entry.deadline - timedelta(days=1)
    session.commit()
    return made


def configure(session, world, **values):
    config = jury.get_config(session, world.contest)
    for name, value in values.items():
        setattr(config, name, value)
    session.commit()
    return config


def test_the_crowd_index_ignores_the_teams_own_pledges_small_pledges_and_cancelled_ones(session):
    world = make_jury_world(session, n_entries=1)
    entry = world.entries[0]
    b1, b2, b3, b4 = make_backers(session, 4)
    pledge(session, entry, world.initiator, 50_000)  # the team's own
    pledge(session, entry, b1, 400)  # under the 5 EUR minimum
    pledge(session, entry, b2, 2_500)
    pledge(session, entry, b2, 1_000, status="paid")  # the same backer again (one open pledge per project)
    pledge(session, entry, b3, 500, status="paid")
    pledge(session, entry, b4, 9_000, status="cancelled")
    figures, frozen = jury_results.crowd_figures(session, world.contest, NOW)
    assert frozen and figures[entry.id] == jury_results.CrowdFigures(2, 4_000, 4)  # of a 1,000 EUR threshold


def test_the_crowd_index_is_frozen_at_the_deadline_and_later_changes_do_not_move_it(session):
    world = make_jury_world(session, n_entries=1)
    entry = world.entries[0]
    early, late = make_backers(session, 2)
    pledge(session, entry, early, 1_000)
    pledge(session, entry, late, 1_000, at=entry.deadline + timedelta(minutes=1))
    first, _ = jury_results.crowd_figures(session, world.contest, NOW)
    session.commit()
    assert first[entry.id].backers == 1
    pledge(session, entry, late, 7_000, status="paid")  # backdated: it would count live; the index is frozen
    again, frozen = jury_results.crowd_figures(session, world.contest, NOW + timedelta(days=1))
    assert frozen and again == first
    assert session.scalar(select(func.count()).select_from(CrowdSnapshot)) == 1


def test_before_the_deadline_the_crowd_index_is_provisional_and_nothing_is_stored(session):
    world = make_jury_world(session, n_entries=1, funding_ended=False)
    pledge(session, world.entries[0], make_backers(session, 1)[0], 1_000)
    figures, frozen = jury_results.crowd_figures(session, world.contest, NOW)
    assert not frozen and figures[world.entries[0].id].backers == 1
    assert session.scalar(select(func.count()).select_from(CrowdSnapshot)) == 0
    with pytest.raises(JuryError, match="before_deadline"):
        jury_results.freeze_crowd(session, world.contest, NOW)


def harsh_world(session):
    """The hand-computed example of tests/unit/test_jury_aggregation.py, through the services."""
    world = make_jury_world(session, criteria=ONE_CRITERION, conflicts=((2, 0),))
    a, b, c = world.entries
    fair1, fair2, harsh = world.jurors
    for juror, values in ((fair1, (7, 8, 5)), (fair2, (7, 8, 5)), (harsh, (None, 2, 3))):
        for entry, value in zip((a, b, c), values, strict=True):
            if value is not None:
                score(session, world, juror, entry, value)
    return world


def test_results_use_the_offset_model_when_a_harsh_juror_missed_an_entry(session):
    world = harsh_world(session)
    a, b, c = world.entries
    results = jury_results.compute_results(session, world.contest, NOW)
    assert results.method == "offset"
    by_entry = {r.project.id: r for r in results.rows}
    assert {e.id: by_entry[e.id].jury_score for e in (a, b, c)} == {a.id: F(170, 3), b.id: F(60), c.id: F(130, 3)}
    assert [r.project for r in results.rows if r.jury_position] == [b, a, c]
    assert results.offsets[world.jurors[2].id] == F(-80, 3)
    assert by_entry[b.id].stats.mean == F(60) and by_entry[a.id].stats.mean == F(70)


def test_entries_where_jurors_disagree_strongly_are_flagged(session):
    world = harsh_world(session)
    results = jury_results.compute_results(session, world.contest, NOW)
    flags = {r.project.title: r.disagreement for r in results.rows}
    # spreads: A 0, B sqrt(((80-60)^2 * 2 + (20-60)^2) / 3) = 28.3, C 9.4; the threshold is 15 points
    assert flags == {"Entry A": False, "Entry B": True, "Entry C": False}


def test_the_final_ranking_combines_jury_and_crowd_and_splits_the_pot_to_the_cent(session):
    world = harsh_world(session)
    a, b, c = world.entries
    backers = make_backers(session, 3)
    for backer in backers:
        pledge(session, c, backer, 1_000)
    pledge(session, a, backers[0], 1_000)
    configure(session, world, jury_weight="1/2", prize_pot_cents=100_000, prize_places=2)
    results = jury_results.compute_results(session, world.contest, NOW)
    # jury' (offset model): B 1, A (170/3 - 130/3) / (60 - 130/3) = 4/5, C 0; crowd': C 1, A 1/3, B 0.
    # finals: B 1/2, A 2/5 + 1/6 = 17/30, C 1/2: A first; B and C tie at 1/2 and keep the jury order.
    assert [(r.project, r.final.final) for r in results.rows] == [(a, F(17, 30)), (b, F(1, 2)), (c, F(1, 2))]
    # 100,000 cents as 17/30 : 1/2 = 17 : 15 are 53,125 and 46,875
    assert [r.prize_cents for r in results.rows] == [53_125, 46_875, 0]


def test_a_decision_that_differs_from_the_computed_ranking_needs_a_reason_and_is_audited(session):
    world = harsh_world(session)
    a, b, c = world.entries
    configure(session, world, prize_pot_cents=1_200_000, prize_places=3, prize_mode="fixed",
              prize_fixed_cents=[600_000, 400_000, 200_000], jury_weight="1")
    with pytest.raises(JuryError, match="wrong_phase"):
        jury_results.record_decision(session, world.contest, [b.id, a.id, c.id], "", actor=world.admin, now=NOW)
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    with pytest.raises(JuryError) as missing:
        jury_results.record_decision(session, world.contest, [a.id, b.id, c.id], " ", actor=world.admin, now=NOW)
    assert missing.value.errors == {"reason": "reason_required"}
    jury_results.record_decision(session, world.contest, [a.id, b.id, c.id], "A is more feasible than scored.",
                                 actor=world.admin, now=NOW)
    session.commit()
    results = jury_results.compute_results(session, world.contest, NOW)
    assert [(r.project, r.position, r.prize_cents) for r in results.rows] == [(a, 1, 600_000), (b, 2, 400_000),
                                                                              (c, 3, 200_000)]
    [row] = session.scalars(select(AuditEntry).where(AuditEntry.action == "decision_recorded")).all()
    assert row.to_state == "differs" and "A is more feasible" in row.reason


def test_the_computed_order_needs_no_reason_and_publishing_opens_the_results(session):
    world = harsh_world(session)
    a, b, c = world.entries
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    assert jury_results.published_results(session, world.contest.slug, NOW) is None
    jury_results.record_decision(session, world.contest, [b.id, a.id, c.id], "", actor=world.admin, now=NOW)
    move(session, world, PhaseAction.PUBLISH)
    results = jury_results.published_results(session, world.contest.slug, NOW)
    assert [r.project for r in results.rows] == [b, a, c] and results.config.published_at is not None


def test_reopening_scoring_drops_a_recorded_decision(session):
    world = harsh_world(session)
    a, b, c = world.entries
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    jury_results.record_decision(session, world.contest, [b.id, a.id, c.id], "", actor=world.admin, now=NOW)
    move(session, world, PhaseAction.REOPEN_SCORING)
    assert jury.get_config(session, world.contest).decision is None


def test_a_decision_must_rank_every_ranked_entry_once(session):
    world = harsh_world(session)
    a, b, _c = world.entries
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    with pytest.raises(JuryError) as wrong:
        jury_results.record_decision(session, world.contest, [a.id, b.id], "why not", actor=world.admin, now=NOW)
    assert wrong.value.errors == {"order": "not_a_ranking"}


def test_a_recorded_jury_vote_breaks_a_complete_tie(session):
    world = make_jury_world(session, n_entries=2, n_jurors=2, criteria=ONE_CRITERION)
    first, second = world.entries
    for juror in world.jurors:
        for entry in world.entries:
            score(session, world, juror, entry, 6)
    results = jury_results.compute_results(session, world.contest, NOW)
    assert results.unresolved_ties == [[first.id, second.id]]
    move(session, world, PhaseAction.OPEN_DISCUSSION)
    jury_results.record_tie_vote(session, world.contest, [second.id, first.id], actor=world.admin)
    results = jury_results.compute_results(session, world.contest, NOW)
    assert results.unresolved_ties == [] and [r.project for r in results.rows] == [second, first]
    assert results.rows[1].decided_by == "jury_vote"


def test_the_preselection_rule_lets_the_crowd_decide_among_the_jurys_top_n(session):
    world = harsh_world(session)
    a, b, c = world.entries
    backers = make_backers(session, 2)
    for backer in backers:
        pledge(session, a, backer, 1_000)
    configure(session, world, ranking_rule="preselect", preselect_top_n=2)
    results = jury_results.compute_results(session, world.contest, NOW)
    # the jury's top two are B and A; A has more backers; C was not pre-selected
    assert [(r.project, r.final.shortlisted) for r in results.rows] == [(a, True), (b, True), (c, False)]
