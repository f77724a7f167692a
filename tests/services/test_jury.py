"""The jury's set-up and scoring services: phases with audit rows, conflicts, assignment, scorecards,
what a juror may see."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.domain.jury import IllegalPhaseTransition, PhaseAction
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.jury import JuryAssignment, Scorecard
from crowdfund.services import jury, jury_results, jury_scoring, jury_settings
from crowdfund.services.jury import JuryError
from crowdfund.services.jury_scoring import NotVisible, ScorecardInvalid
from crowdfund.services.jury_settings import CriterionData
from tests.services.test_jury_world import make_jury_world, make_person, move, score

NOW = datetime.now(UTC)


def audit(session, entity_type, action=None):
    stmt = select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
    return [a for a in session.scalars(stmt) if action is None or a.action == action]


def test_opening_scoring_assigns_the_panel_except_conflicts_and_audits_the_phase_change(session):
    world = make_jury_world(session, conflicts=((0, 1),))
    pairs = {(a.juror_id, a.project_id) for a in session.scalars(select(JuryAssignment))}
    assert len(pairs) == 3 * 3 - 1 and (world.jurors[0].id, world.entries[1].id) not in pairs
    [row] = audit(session, "jury", "open_scoring")
    assert (row.from_state, row.to_state, row.actor_id) == ("conflicts", "scoring", world.admin.id)


def test_a_repeated_phase_change_changes_nothing_and_an_illegal_one_raises(session):
    world = make_jury_world(session)
    assert jury.change_phase(session, world.contest, "open_scoring", actor=world.admin, now=NOW) is False
    assert len(audit(session, "jury", "open_scoring")) == 1
    with pytest.raises(IllegalPhaseTransition):
        jury.change_phase(session, world.contest, "publish", actor=world.admin, now=NOW)


def test_scoring_cannot_start_without_criteria_or_panel(session):
    world = make_jury_world(session, criteria=(), open_scoring=False)
    with pytest.raises(JuryError, match="no_criteria"):
        jury.change_phase(session, world.contest, "open_scoring", actor=world.admin, now=NOW)


def test_criteria_and_panel_are_fixed_once_scoring_has_started(session):
    world = make_jury_world(session)
    with pytest.raises(JuryError, match="wrong_phase"):
        jury_settings.save_criterion(session, world.contest, CriterionData("New", "", "1", 1, 5, {}),
                                     actor=world.admin)
    late = make_person(session, Role.JUROR, name="Late Juror")
    with pytest.raises(JuryError, match="wrong_phase"):
        jury_settings.add_juror(session, world.contest, late, actor=world.admin)


def test_only_users_with_the_juror_role_can_sit_on_the_panel(session):
    world = make_jury_world(session, open_scoring=False)
    with pytest.raises(JuryError, match="not_a_juror"):
        jury_settings.add_juror(session, world.contest, world.initiator, actor=world.admin)


def test_a_conflict_declared_during_scoring_removes_the_assignment_and_the_scorecard(session):
    world = make_jury_world(session)
    juror, entry = world.jurors[0], world.entries[0]
    score(session, world, juror, entry, 5, 5)
    jury.declare_conflict(session, world.contest, juror, entry, "personal", "My neighbour", actor=juror)
    session.commit()
    assert entry.id not in jury.assigned_ids(session, world.contest, juror)
    assert session.scalars(select(Scorecard)).all() == []
    with pytest.raises(NotVisible):
        jury_scoring.entry_for_juror(session, world.contest, juror, entry.id)
    overview = jury_scoring.juror_overview(session, world.contest, juror)
    assert entry not in [i.project for i in overview.items] and overview.total == 2
    [row] = audit(session, "jury_conflict")
    assert (row.action, row.to_state, row.reason) == ("declared", "personal", "My neighbour")


def test_an_unassigned_juror_cannot_score_the_entry(session):
    world = make_jury_world(session, n_entries=2, n_jurors=2, per_entry=1)
    juror = world.jurors[0]
    [other] = [e for e in world.entries if e.id not in jury.assigned_ids(session, world.contest, juror)]
    with pytest.raises(NotVisible):
        score(session, world, juror, other, 5, 5)


def test_assignment_of_k_per_entry_balances_loads_and_avoids_conflicts(session):
    world = make_jury_world(session, n_entries=5, n_jurors=3, per_entry=2, conflicts=((0, 0), (0, 1)))
    loads = [len(jury.assigned_ids(session, world.contest, j)) for j in world.jurors]
    assert sum(loads) == 10 and max(loads) - min(loads) <= 1
    assert not {world.entries[0].id, world.entries[1].id} & jury.assigned_ids(session, world.contest, world.jurors[0])


def test_a_conflict_declared_before_scoring_rebalances_an_existing_assignment(session):
    world = make_jury_world(session, n_entries=4, n_jurors=2, per_entry=1, open_scoring=False)
    jury.assign_entries(session, world.contest, actor=world.admin)
    first = world.jurors[0]
    [mine, *_] = sorted(jury.assigned_ids(session, world.contest, first))
    entry = next(e for e in world.entries if e.id == mine)
    jury.declare_conflict(session, world.contest, first, entry, "own_project", "", actor=first)
    session.commit()
    loads = [jury.assigned_ids(session, world.contest, j) for j in world.jurors]
    assert mine not in loads[0] and sorted(map(len, loads)) == [2, 2] and set().union(*loads) == {
        e.id for e in world.entries}


def test_a_draft_may_have_gaps_but_a_submission_must_be_complete_and_within_the_scale(session):
    world = make_jury_world(session)
    juror, entry = world.jurors[0], world.entries[0]
    draft = score(session, world, juror, entry, 7, None, submit=False)
    assert (draft.status, draft.scores) == ("draft", {str(world.criteria[0].id): 7})
    with pytest.raises(ScorecardInvalid) as missing:
        score(session, world, juror, entry, 7, None)
    assert missing.value.errors == {world.criteria[1].id: "missing"}
    with pytest.raises(ScorecardInvalid):
        score(session, world, juror, entry, 11, 3)
    card = score(session, world, juror, entry, 7, 3)
    assert card.status == "submitted" and card.submitted_at is not None
    assert [a.action for a in audit(session, "scorecard")] == ["submitted"]


def test_changes_after_submission_are_logged_with_the_old_and_new_scores(session):
    world = make_jury_world(session)
    juror, entry = world.jurors[0], world.entries[0]
    card = score(session, world, juror, entry, 6, 3, comment="solid")
    score(session, world, juror, entry, 9, 3, comment="convinced me in the discussion")
    score(session, world, juror, entry, 9, 3, comment="convinced me in the discussion")  # no change, no row
    [row] = audit(session, "scorecard", "changed_after_submission")
    impact, feasibility = (str(c.id) for c in world.criteria)
    # totals: (2 * 60 + 30) / 3 = 50 before, (2 * 90 + 30) / 3 = 70 after
    assert (row.entity_id, row.from_state, row.to_state, row.actor_id) == (card.id, "total 50.00", "total 70.00",
                                                                            juror.id)
    detail = json.loads(row.reason)
    assert detail["old"] == {"scores": {impact: 6, feasibility: 3}, "comment": "solid"}
    assert detail["new"]["scores"][impact] == 9


def test_a_submitted_card_cannot_become_incomplete_again(session):
    world = make_jury_world(session)
    score(session, world, world.jurors[0], world.entries[0], 6, 3)
    with pytest.raises(ScorecardInvalid):
        score(session, world, world.jurors[0], world.entries[0], 6, None, submit=False)


def test_a_juror_sees_the_others_scores_only_after_submitting_their_own(session):
    world = make_jury_world(session)
    a, b = world.jurors[:2]
    entry = world.entries[0]
    score(session, world, b, entry, 8, 8, comment="B's view")
    assert jury_scoring.others_cards(session, world.contest, a, entry) is None
    score(session, world, a, entry, 4, 4, submit=False)
    assert jury_scoring.others_cards(session, world.contest, a, entry) is None
    score(session, world, a, entry, 4, 4)
    assert [c.comment for c in jury_scoring.others_cards(session, world.contest, a, entry)] == ["B's view"]


def test_the_discussion_is_open_to_jurors_who_have_submitted(session):
    world = make_jury_world(session)
    juror, entry = world.jurors[0], world.entries[0]
    with pytest.raises(JuryError, match="submit_first"):
        jury_scoring.add_comment(session, world.contest, juror, entry, "First thoughts", now=NOW)
    score(session, world, juror, entry, 4, 4)
    jury_scoring.add_comment(session, world.contest, juror, entry, "First thoughts", now=NOW)
    assert [c.body for c in jury_scoring.discussion(session, entry)] == ["First thoughts"]


def test_progress_counts_submitted_cards_of_assigned_entries(session):
    world = make_jury_world(session)
    juror = world.jurors[0]
    score(session, world, juror, world.entries[0], 5, 5)
    score(session, world, juror, world.entries[1], 5, None, submit=False)
    overview = jury_scoring.juror_overview(session, world.contest, juror)
    assert (overview.done, overview.total, overview.all_done) == (1, 3, False)
    assert [i.status for i in overview.items] == ["submitted", "draft", "open"]
    [progress] = [p for p in jury_scoring.panel_progress(session, world.contest) if p.juror == juror]
    assert (progress.assigned, progress.submitted) == (3, 1)


def test_scoring_is_closed_outside_the_scoring_and_discussion_phases(session):
    world = make_jury_world(session)
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    with pytest.raises(JuryError, match="wrong_phase"):
        score(session, world, world.jurors[0], world.entries[0], 5, 5)


def test_publishing_needs_a_recorded_decision(session):
    world = make_jury_world(session)
    move(session, world, PhaseAction.OPEN_DISCUSSION, PhaseAction.OPEN_DECISION)
    with pytest.raises(JuryError, match="no_decision"):
        jury.change_phase(session, world.contest, "publish", actor=world.admin, now=NOW)
    assert jury_results.published_results(session, world.contest.slug, NOW) is None
