"""Matchfunding rules without I/O: the match lifecycle as one table, and which projects a pot admits.

reserved -> realised (project funded, pledge paid) | released (pledge cancelled, released or failed);
released -> reserved (the pledge is matched again, e.g. after its amount changed). A realised match is
real money and never goes back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from types import MappingProxyType


class MatchStatus(StrEnum):
    RESERVED = "reserved"
    REALISED = "realised"
    RELEASED = "released"


_M = MatchStatus

MATCH_MOVES: Mapping[MatchStatus, frozenset[MatchStatus]] = MappingProxyType({
    _M.RESERVED: frozenset({_M.REALISED, _M.RELEASED}),
    _M.RELEASED: frozenset({_M.RESERVED}),
    _M.REALISED: frozenset(),
})
# Matches in these states use up their pot's budget and count toward the caps.
HOLDING: frozenset[MatchStatus] = frozenset({_M.RESERVED, _M.REALISED})


class IllegalMatchTransition(Exception):
    """A move the match table does not allow (a realised match released, a released one realised)."""

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
