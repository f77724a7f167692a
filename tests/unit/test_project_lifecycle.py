"""The project lifecycle table, checked pair by pair against a table written out here by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crowdfund.domain.projects import (
    EDITABLE_STATES,
    PUBLIC_STATES,
    IllegalTransition,
    ProjectAction,
    ProjectState,
    allowed_actions,
    deadline_end_of_day,
    deadline_in_window,
    is_noop,
    is_terminal,
    percent_funded,
    threshold_reached,
    time_left,
    transition,
)

BERLIN = ZoneInfo("Europe/Berlin")

# (state, action) -> new state, for every legal move. Written by hand from domain.md section 2.
LEGAL: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("changes_requested", "submit"): "submitted",
    ("submitted", "request_changes"): "changes_requested",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("draft", "withdraw"): "withdrawn",
    ("submitted", "withdraw"): "withdrawn",
    ("changes_requested", "withdraw"): "withdrawn",
    ("approved", "withdraw"): "withdrawn",
    ("approved", "publish"): "live",
    ("live", "end"): "ended",
    ("ended", "mark_funded"): "funded",
    ("ended", "mark_not_funded"): "not_funded",
}

# (state, action) pairs where the project already is in the action's target state.
REPEATS: set[tuple[str, str]] = {
    ("submitted", "submit"),
    ("changes_requested", "request_changes"),
    ("approved", "approve"),
    ("rejected", "reject"),
    ("withdrawn", "withdraw"),
    ("live", "publish"),
    ("ended", "end"),
    ("funded", "mark_funded"),
    ("not_funded", "mark_not_funded"),
}

# How the error message finishes the sentence "A project in state '...' cannot be ...".
PHRASES: dict[str, str] = {
    "submit": "submitted",
    "request_changes": "sent back for changes",
    "approve": "approved",
    "reject": "rejected",
    "withdraw": "withdrawn",
    "publish": "published",
    "end": "ended",
    "mark_funded": "marked as funded",
    "mark_not_funded": "marked as not funded",
}

# fmt: off
STATES = [
    "draft", "submitted", "changes_requested", "approved", "live",
    "ended", "funded", "not_funded", "rejected", "withdrawn",
]
# fmt: on
ACTIONS = list(PHRASES)
ALL_PAIRS = [(state, action) for state in STATES for action in ACTIONS]


def test_the_enums_name_exactly_the_documented_states_and_actions() -> None:
    assert [s.value for s in ProjectState] == STATES
    assert [a.value for a in ProjectAction] == ACTIONS


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_every_state_and_action_pair_follows_the_written_table(state: str, action: str) -> None:
    if (state, action) in LEGAL:
        assert transition(ProjectState(state), ProjectAction(action)) == LEGAL[(state, action)]
    elif (state, action) in REPEATS:
        assert transition(ProjectState(state), ProjectAction(action)) == state
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(ProjectState(state), ProjectAction(action))
        assert caught.value.from_state == state
        assert caught.value.action == action
        assert str(caught.value) == f"A project in state '{state}' cannot be {PHRASES[action]}."


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_is_noop_is_true_only_for_repeats(state: str, action: str) -> None:
    assert is_noop(ProjectState(state), ProjectAction(action)) is ((state, action) in REPEATS)


def test_illegal_transition_raises_with_clear_message() -> None:
    with pytest.raises(IllegalTransition, match=r"^A project in state 'draft' cannot be approved\.$"):
        transition(ProjectState.DRAFT, ProjectAction.APPROVE)


def test_a_repeat_returns_the_same_state_without_raising() -> None:
    assert transition(ProjectState.APPROVED, ProjectAction.APPROVE) is ProjectState.APPROVED
    assert is_noop(ProjectState.APPROVED, ProjectAction.APPROVE)


def test_transition_accepts_the_plain_strings_stored_in_the_database() -> None:
    assert transition("draft", "submit") is ProjectState.SUBMITTED


def test_an_unknown_state_or_action_is_a_value_error_not_a_transition() -> None:
    with pytest.raises(ValueError, match="archived"):
        transition("archived", "submit")
    with pytest.raises(ValueError, match="launch"):
        transition("draft", "launch")


@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_lists_exactly_the_legal_moves_from_a_state(state: str) -> None:
    expected = {action for (source, action) in LEGAL if source == state}
    assert set(allowed_actions(state)) == expected
    assert all(isinstance(action, ProjectAction) for action in allowed_actions(state))


def test_allowed_actions_of_a_submitted_project_come_in_table_order() -> None:
    assert allowed_actions(ProjectState.SUBMITTED) == (
        ProjectAction.REQUEST_CHANGES,
        ProjectAction.APPROVE,
        ProjectAction.REJECT,
        ProjectAction.WITHDRAW,
    )


@pytest.mark.parametrize("state", STATES)
def test_only_funded_not_funded_rejected_and_withdrawn_are_terminal(state: str) -> None:
    assert is_terminal(state) is (state in {"funded", "not_funded", "rejected", "withdrawn"})


def test_public_states_are_live_ended_funded_and_not_funded() -> None:
    assert set(PUBLIC_STATES) == {"live", "ended", "funded", "not_funded"}


def test_editable_states_are_draft_and_changes_requested() -> None:
    assert set(EDITABLE_STATES) == {"draft", "changes_requested"}


# Deadlines


def test_deadline_is_the_last_microsecond_of_the_berlin_day_in_winter() -> None:
    deadline = deadline_end_of_day(date(2027, 1, 15), BERLIN)
    assert deadline == datetime(2027, 1, 15, 22, 59, 59, 999999, tzinfo=UTC)
    assert deadline.utcoffset() == timedelta(0)


def test_deadline_in_summer_is_one_hour_earlier_in_utc() -> None:
    assert deadline_end_of_day(date(2027, 7, 1), BERLIN) == datetime(
        2027, 7, 1, 21, 59, 59, 999999, tzinfo=UTC
    )


def test_deadline_on_the_spring_forward_day_uses_summer_time() -> None:
    # 2027-03-28: clocks jump from 02:00 CET to 03:00 CEST, the day has 23 hours.
    assert deadline_end_of_day(date(2027, 3, 27), BERLIN) == datetime(
        2027, 3, 27, 22, 59, 59, 999999, tzinfo=UTC
    )
    assert deadline_end_of_day(date(2027, 3, 28), BERLIN) == datetime(
        2027, 3, 28, 21, 59, 59, 999999, tzinfo=UTC
    )


def test_deadline_on_the_fall_back_day_uses_winter_time() -> None:
    # 2027-10-31: clocks fall back from 03:00 CEST to 02:00 CET, the day has 25 hours.
    assert deadline_end_of_day(date(2027, 10, 30), BERLIN) == datetime(
        2027, 10, 30, 21, 59, 59, 999999, tzinfo=UTC
    )
    assert deadline_end_of_day(date(2027, 10, 31), BERLIN) == datetime(
        2027, 10, 31, 22, 59, 59, 999999, tzinfo=UTC
    )


def test_deadline_on_a_dst_day_still_reads_as_end_of_that_day_in_berlin() -> None:
    for day in (date(2027, 3, 28), date(2027, 10, 31)):
        local = deadline_end_of_day(day, BERLIN).astimezone(BERLIN)
        assert (local.date(), local.hour, local.minute, local.second, local.microsecond) == (
            day,
            23,
            59,
            59,
            999999,
        )


def test_deadline_uses_whatever_time_zone_it_is_given() -> None:
    expected = datetime(2027, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert deadline_end_of_day(date(2027, 5, 1), UTC) == expected
    assert deadline_end_of_day(date(2027, 5, 1), timezone(timedelta(hours=-5))) == expected + timedelta(
        hours=5
    )


def test_deadline_in_window_includes_both_ends() -> None:
    start = datetime(2027, 3, 1, tzinfo=UTC)
    end = datetime(2027, 6, 30, 21, 59, 59, 999999, tzinfo=UTC)
    assert deadline_in_window(start, start, end)
    assert deadline_in_window(end, start, end)
    assert deadline_in_window(datetime(2027, 4, 1, tzinfo=UTC), start, end)


def test_deadline_outside_window_by_one_microsecond_is_rejected() -> None:
    start = datetime(2027, 3, 1, tzinfo=UTC)
    end = datetime(2027, 6, 30, tzinfo=UTC)
    assert not deadline_in_window(start - timedelta(microseconds=1), start, end)
    assert not deadline_in_window(end + timedelta(microseconds=1), start, end)


def test_deadline_in_window_compares_instants_across_time_zones() -> None:
    end = deadline_end_of_day(date(2027, 6, 30), BERLIN)
    start = datetime(2027, 3, 1, tzinfo=BERLIN)
    assert deadline_in_window(datetime(2027, 6, 30, 23, 30, tzinfo=BERLIN), start, end)
    assert not deadline_in_window(datetime(2027, 7, 1, 0, 0, tzinfo=BERLIN), start, end)


# Time left


def test_time_left_counts_whole_days_and_remaining_hours() -> None:
    now = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
    assert time_left(now + timedelta(days=3, hours=5, minutes=59), now) == (3, 5)


def test_time_left_under_an_hour_is_zero_hours() -> None:
    now = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
    assert time_left(now + timedelta(minutes=59, seconds=59), now) == (0, 0)


def test_time_left_after_the_deadline_is_zero_never_negative() -> None:
    now = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
    assert time_left(now - timedelta(days=2, hours=3), now) == (0, 0)
    assert time_left(now, now) == (0, 0)


def test_time_left_across_the_dst_change_counts_real_elapsed_hours() -> None:
    deadline = deadline_end_of_day(date(2027, 3, 28), BERLIN)
    now = datetime(2027, 3, 27, 23, 59, 59, 999999, tzinfo=BERLIN)
    assert time_left(deadline, now) == (0, 23)


# Funding


@pytest.mark.parametrize(
    ("pledged", "threshold", "expected"),
    [
        (0, 10_000, 0),
        (9_999, 10_000, 99),
        (10_000, 10_000, 100),
        (10_099, 10_000, 100),
        (25_000, 10_000, 250),
        (1, 3, 33),
        (2, 3, 66),
    ],
)
def test_percent_funded_is_floored_and_may_exceed_100(pledged: int, threshold: int, expected: int) -> None:
    assert percent_funded(pledged, threshold) == expected


@pytest.mark.parametrize("threshold", [0, -100])
def test_percent_funded_refuses_a_threshold_that_is_not_positive(threshold: int) -> None:
    with pytest.raises(ValueError, match="threshold must be positive"):
        percent_funded(100, threshold)


def test_percent_funded_refuses_a_negative_pledged_amount() -> None:
    with pytest.raises(ValueError, match="negative"):
        percent_funded(-1, 100)


@pytest.mark.parametrize(
    ("pledged", "threshold", "expected"),
    [(0, 500_000, False), (499_999, 500_000, False), (500_000, 500_000, True), (600_000, 500_000, True)],
)
def test_threshold_is_reached_from_the_exact_cent(pledged: int, threshold: int, expected: bool) -> None:
    assert threshold_reached(pledged, threshold) is expected


def test_threshold_reached_refuses_a_zero_threshold() -> None:
    with pytest.raises(ValueError, match="threshold must be positive"):
        threshold_reached(0, 0)
