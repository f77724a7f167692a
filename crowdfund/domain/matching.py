"""Matchfunding rules without I/O: the match lifecycle as one table, and which projects a pot admits.

reserved -> realised (project funded, pledge paid) | released (pledge cancelled, released or failed);
released -> reserved (the pledge is matched again, e.g. after its amount changed); realised -> reversed
(the paid pledge was refunded in full: the match is booked back to its pot). A realised match is real money:
it is never released, only shrunk or reversed with a refund of its pledge, each step on the ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class MatchStatus(StrEnum):
    RESERVED = "reserved"
    REALISED = "realised"
    RELEASED = "released"
    REVERSED = "reversed"


_M = MatchStatus

MATCH_MOVES: Mapping[MatchStatus, frozenset[MatchStatus]] = MappingProxyType({
    _M.RESERVED: frozenset({_M.REALISED, _M.RELEASED}),
    _M.RELEASED: frozenset({_M.RESERVED}),
    _M.REALISED: frozenset({_M.REVERSED}),
    _M.REVERSED: frozenset(),
})
# Matches in these states use up their pot's budget and count toward the caps.
HOLDING: frozenset[MatchStatus] = frozenset({_M.RESERVED, _M.REALISED})


class IllegalMatchTransition(Exception):
    """A move the match table does not allow (a realised match released, a released one realised, ...)."""

    def __init__(self, status: MatchStatus, target: MatchStatus) -> None:
        self.status, self.target = status, target
        super().__init__(f"A match in status '{status}' cannot become '{target}'.")


def is_match_move(status: MatchStatus | str, target: MatchStatus | str) -> bool:
    """Tell whether going to `target` is a real move (True) or a repeat (False); anything else raises."""
    status, target = MatchStatus(status), MatchStatus(target)
    if status == target:
        return False
    if target not in MATCH_MOVES[status]:
        raise IllegalMatchTransition(status, target)
    return True


def pot_admits(*, pot_contest_id: int | None, pot_districts: Collection[str], pot_categories: Collection[str],
               contest_id: int, district_slug: str, category: str) -> bool:
    """Tell whether a pot's eligibility rule admits a project: its contest (None: any), one of its
    districts and one of its categories (an empty list admits every district or category)."""
    return (pot_contest_id in (None, contest_id)
            and (not pot_districts or district_slug in pot_districts)
            and (not pot_categories or category in pot_categories))


SPONSOR_MAX_LENGTH = 160
MIN_AMOUNT_CENTS = 100
MAX_AMOUNT_CENTS = 1_000_000_000  # 10 million euros: far above any pot, well inside a 32-bit column
MAX_RATIO_PERCENT = 1_000
AMOUNT_FIELDS = ("budget_cents", "cap_per_pledge_cents", "cap_per_backer_cents", "cap_per_project_cents")


def pot_errors(values: Mapping[str, Any], *, held_cents: int, districts: Collection[str],
               categories: Collection[str]) -> dict[str, str]:
    """Return a stable error code per pot field that breaks a rule: a sponsor name, amounts of 1 euro
    up to the maximum (caps may be None), a ratio of 1 to 1000 percent, only known districts and
    categories, and a budget no lower than what the pot's matches already hold (`held_cents`)."""
    errors: dict[str, str] = {}
    name = values["sponsor_name"].strip()
    if not name or len(name) > SPONSOR_MAX_LENGTH:
        errors["sponsor_name"] = "too_long" if name else "required"
    for field in AMOUNT_FIELDS:
        value = values[field]
        if value is not None and not MIN_AMOUNT_CENTS <= value <= MAX_AMOUNT_CENTS:
            errors[field] = "amount_too_low" if value < MIN_AMOUNT_CENTS else "amount_too_high"
    if "budget_cents" not in errors and values["budget_cents"] < held_cents:
        errors["budget_cents"] = "budget_below_held"
    if not 1 <= values["ratio_percent"] <= MAX_RATIO_PERCENT:
        errors["ratio_percent"] = "ratio_out_of_range"
    if not set(values["district_slugs"]) <= set(districts):
        errors["district_slugs"] = "unknown"
    if not set(values["categories"]) <= set(categories):
        errors["categories"] = "unknown"
    return errors


def match_after_refund(realised_cents: int, paid_cents: int, refunded_cents: int) -> int:
    """Return what a realised match keeps once its pledge has `refunded_cents` of `paid_cents` refunded.

    Proportional to what the backer kept, rounded down to whole cents: a refund never leaves the pot paying
    more than its ratio of the money that stayed (so no cap is ever exceeded), and the remainder cent goes
    back to the pot. A full refund leaves nothing."""
    if paid_cents <= 0 or refunded_cents >= paid_cents:
        return 0
    kept = paid_cents - max(0, refunded_cents)
    return realised_cents * kept // paid_cents
