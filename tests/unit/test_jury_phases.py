"""The jury's phase transition table, every (phase, action) pair."""

from __future__ import annotations

import pytest

from crowdfund.domain.jury import (
    IllegalPhaseTransition,
    Phase,
    PhaseAction,
    allowed_actions,
    is_repeat,
    next_phase,
)

P, A = Phase, PhaseAction
ALLOWED = {
    (P.CONFLICTS, A.OPEN_SCORING): P.SCORING,
    (P.SCORING, A.OPEN_DISCUSSION): P.DISCUSSION,
    (P.DISCUSSION, A.REOPEN_SCORING): P.SCORING,
    (P.DECISION, A.REOPEN_SCORING): P.SCORING,
    (P.DISCUSSION, A.OPEN_DECISION): P.DECISION,
    (P.DECISION, A.PUBLISH): P.PUBLISHED,
}
REPEATS = {(P.SCORING, A.OPEN_SCORING), (P.DISCUSSION, A.OPEN_DISCUSSION), (P.SCORING, A.REOPEN_SCORING),
           (P.DECISION, A.OPEN_DECISION), (P.PUBLISHED, A.PUBLISH)}
PAIRS = [(phase, action) for phase in P for action in A]


@pytest.mark.parametrize(("phase", "action"), PAIRS, ids=[f"{p}-{a}" for p, a in PAIRS])
def test_every_phase_and_action_pair_moves_repeats_or_raises(phase, action):
    if (phase, action) in ALLOWED:
        assert next_phase(phase, action) == ALLOWED[phase, action] and not is_repeat(phase, action)
    elif (phase, action) in REPEATS:
        assert next_phase(phase, action) == phase and is_repeat(phase, action)
    else:
        with pytest.raises(IllegalPhaseTransition):
            next_phase(phase, action)


def test_published_results_are_final():
    assert allowed_actions(P.PUBLISHED) == ()


def test_allowed_actions_follow_the_table():
    assert allowed_actions(P.DISCUSSION) == (A.REOPEN_SCORING, A.OPEN_DECISION)
