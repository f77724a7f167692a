"""The project lifecycle as one transition table, plus pure deadline and funding arithmetic.

Time zones, clocks and amounts are arguments: nothing here reads the clock or the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class ProjectState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    LIVE = "live"
    ENDED = "ended"
    FUNDED = "funded"
    NOT_FUNDED = "not_funded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProjectAction(StrEnum):
    SUBMIT = "submit"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    PUBLISH = "publish"
    END = "end"
    MARK_FUNDED = "mark_funded"
    MARK_NOT_FUNDED = "mark_not_funded"


class Transition(NamedTuple):
    sources: frozenset[ProjectState]
    target: ProjectState
    phrase: str  # completes "A project in state '...' cannot be ..."


_S = ProjectState
_A = ProjectAction

TRANSITIONS: Mapping[ProjectAction, Transition] = MappingProxyType(
    {
        _A.SUBMIT: Transition(frozenset({_S.DRAFT, _S.CHANGES_REQUESTED}), _S.SUBMITTED, "submitted"),
        _A.REQUEST_CHANGES: Transition(
            frozenset({_S.SUBMITTED}), _S.CHANGES_REQUESTED, "sent back for changes"
        ),
        _A.APPROVE: Transition(frozenset({_S.SUBMITTED}), _S.APPROVED, "approved"),
        _A.REJECT: Transition(frozenset({_S.SUBMITTED}), _S.REJECTED, "rejected"),
        _A.WITHDRAW: Transition(
            frozenset({_S.DRAFT, _S.SUBMITTED, _S.CHANGES_REQUESTED, _S.APPROVED}), _S.WITHDRAWN, "withdrawn"
        ),
        _A.PUBLISH: Transition(frozenset({_S.APPROVED}), _S.LIVE, "published"),
        _A.END: Transition(frozenset({_S.LIVE}), _S.ENDED, "ended"),
        _A.MARK_FUNDED: Transition(frozenset({_S.ENDED}), _S.FUNDED, "marked as funded"),
        _A.MARK_NOT_FUNDED: Transition(frozenset({_S.ENDED}), _S.NOT_FUNDED, "marked as not funded"),
    }
)

PUBLIC_STATES: frozenset[ProjectState] = frozenset({_S.LIVE, _S.ENDED, _S.FUNDED, _S.NOT_FUNDED})
EDITABLE_STATES: frozenset[ProjectState] = frozenset({_S.DRAFT, _S.CHANGES_REQUESTED})


class IllegalTransition(Exception):
    """An action that the transition table does not allow from the project's current state."""

    def __init__(self, from_state: ProjectState, action: ProjectAction) -> None:
        self.from_state = from_state
        self.action = action
        phrase = TRANSITIONS[action].phrase
        super().__init__(f"A project in state '{from_state}' cannot be {phrase}.")


def is_noop(state: ProjectState | str, action: ProjectAction | str) -> bool:
    """Tell whether `action` would leave `state` unchanged.

    A repeat (the project is already in the action's target state) is a no-op, not an error.
    """
    return ProjectState(state) == TRANSITIONS[ProjectAction(action)].target


def transition(state: ProjectState | str, action: ProjectAction | str) -> ProjectState:
    """Return the state a project moves to when `action` is applied in `state`.

    A repeat returns the same state; any move the table does not list raises IllegalTransition.
    """
    state, action = ProjectState(state), ProjectAction(action)
    rule = TRANSITIONS[action]
    if state == rule.target or state in rule.sources:
        return rule.target
    raise IllegalTransition(state, action)


def allowed_actions(state: ProjectState | str) -> tuple[ProjectAction, ...]:
    """Return the actions that move a project out of `state`, in table order (repeats excluded)."""
    state = ProjectState(state)
    return tuple(action for action, rule in TRANSITIONS.items() if state in rule.sources)


def is_terminal(state: ProjectState | str) -> bool:
    """Tell whether no action can move a project out of `state` any more."""
    return not allowed_actions(state)


def deadline_end_of_day(day: date, tz: tzinfo) -> datetime:
    """Return the last microsecond of `day` in `tz`, as an aware UTC datetime.

    Deadlines are the end of a local calendar day (23:59:59.999999), whatever its length under DST.
    """
    return datetime.combine(day, time.max, tzinfo=tz).astimezone(UTC)


def deadline_in_window(deadline: datetime, window_start: datetime, window_end: datetime) -> bool:
    """Tell whether `deadline` lies inside the contest's window, both ends included.

    All three must be timezone-aware; comparing naive with aware datetimes raises TypeError.
    """
    return window_start <= deadline <= window_end


def time_left(deadline: datetime, now: datetime) -> tuple[int, int]:
    """Return the whole days and remaining whole hours until `deadline`.

    Both are floored, and once the deadline has passed the answer is (0, 0), never negative.
    """
    remaining = max(deadline - now, timedelta(0))
    return remaining.days, remaining.seconds // 3600


def percent_funded(pledged_cents: int, threshold_cents: int) -> int:
    """Return the pledged share of the threshold as a whole percentage.

    Floored (99.9 % shows as 99, so 100 means the threshold is really reached); may exceed 100.
    """
    _check_amounts(pledged_cents, threshold_cents)
    return pledged_cents * 100 // threshold_cents


def threshold_reached(pledged_cents: int, threshold_cents: int) -> bool:
    """Tell whether the pledges cover the threshold: a fact computed from money, not a state."""
    _check_amounts(pledged_cents, threshold_cents)
    return pledged_cents >= threshold_cents


def _check_amounts(pledged_cents: int, threshold_cents: int) -> None:
    if threshold_cents <= 0:
        raise ValueError(f"threshold must be positive, got {threshold_cents} cents")
    if pledged_cents < 0:
        raise ValueError(f"pledged amount cannot be negative, got {pledged_cents} cents")
