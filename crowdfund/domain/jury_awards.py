"""The crowd index, the final ranking that combines it with the jury's, and the prize split.

Documented choices:
- crowd index of an entry = distinct backers with at least one counting pledge of at least the contest's
  minimum, made no later than the deadline, not by the team (the initiator; team members who have
  accounts). Amount = the sum of those pledges; percent = amount / threshold, floored.
- weighted rule: final = w * jury' + (1 - w) * crowd', where x' is min-max normalised to 0..1 over the
  ranked entries (all equal: every entry gets 1, so a criterion that separates nobody adds nothing).
- pre-selection rule: the jury's top N (after tie-breaks) are ranked by crowd index (backers, ties by
  jury order) ahead of everyone else, who keep their jury order; final = backers / most backers among
  the top N (0..1), 0 for the rest.
- prize split in integer cents by the largest-remainder method, so the parts sum exactly to the pot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class RankingRule(StrEnum):
    WEIGHTED = "weighted"
    PRESELECT = "preselect"


class PrizeMode(StrEnum):
    FIXED = "fixed"
    PROPORTIONAL = "proportional"


@dataclass(frozen=True)
class PledgeFact:
    backer_id: int
    amount_cents: int
    counting: bool
    created_at: datetime


@dataclass(frozen=True)
class CrowdIndex:
    backers: int
    amount_cents: int
    percent: int  # of the threshold, floored


def crowd_index(pledges: Iterable[PledgeFact], *, team_ids: Iterable[int], minimum_cents: int,
                threshold_cents: int, deadline: datetime) -> CrowdIndex:
    """Count distinct backers whose counting pledges reach the minimum, leaving out the team's own.

    Pledges made after the deadline are ignored: the index is frozen at the deadline."""
    team = set(team_ids)
    valid = [p for p in pledges if p.counting and p.amount_cents >= minimum_cents
             and p.backer_id not in team and p.created_at <= deadline]
    amount = sum(p.amount_cents for p in valid)
    percent = amount * 100 // threshold_cents if threshold_cents > 0 else 0
    return CrowdIndex(len({p.backer_id for p in valid}), amount, percent)


def min_max(values: Mapping[int, Fraction]) -> dict[int, Fraction]:
    """Map values linearly onto 0..1 (lowest 0, highest 1); all equal map to 1."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if low == high:
        return dict.fromkeys(values, Fraction(1))
    return {k: (v - low) / (high - low) for k, v in values.items()}


def format_share(w: Fraction) -> str:
    """Write a share as a decimal where that is exact ("0.6"), else as a fraction ("1/3")."""
    denominator = w.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{w.numerator}/{w.denominator}"
    return str(Decimal(w.numerator) / Decimal(w.denominator))  # exact: only factors 2 and 5 below


@dataclass(frozen=True)
class FinalEntry:
    entry: int
    position: int
    final: Fraction  # 0..1
    jury: Fraction  # normalised jury score, 0..1
    crowd: Fraction  # normalised crowd index, 0..1
    shortlisted: bool = True


def parse_share(text: str) -> Fraction:
    """Return the jury's weight w from text such as "0.6" or "3/5"; it must lie within 0..1."""
    try:
        w = Fraction(str(text).strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a number: {text!r}") from None
    if not 0 <= w <= 1:
        raise ValueError(f"the jury's weight must lie within 0..1, got {text!r}")
    return w


def weighted_ranking(jury_order: Sequence[int], jury: Mapping[int, Fraction], crowd: Mapping[int, int],
                     w: Fraction) -> list[FinalEntry]:
    """Rank by w x normalised jury score + (1 - w) x normalised crowd index; ties keep the jury order."""
    j_norm = min_max({e: jury[e] for e in jury_order})
    c_norm = min_max({e: Fraction(crowd.get(e, 0)) for e in jury_order})
    finals = {e: w * j_norm[e] + (1 - w) * c_norm[e] for e in jury_order}
    ordered = sorted(jury_order, key=lambda e: (-finals[e], jury_order.index(e)))
    return [FinalEntry(e, i + 1, finals[e], j_norm[e], c_norm[e]) for i, e in enumerate(ordered)]


def preselect_ranking(jury_order: Sequence[int], jury: Mapping[int, Fraction], crowd: Mapping[int, int],
                      top_n: int) -> list[FinalEntry]:
    """The jury's top N ranked by crowd index (ties: jury order), then the rest in jury order."""
    j_norm = min_max({e: jury[e] for e in jury_order})
    shortlist, rest = list(jury_order[:top_n]), list(jury_order[top_n:])
    most = max((crowd.get(e, 0) for e in shortlist), default=0)
    shortlist.sort(key=lambda e: (-crowd.get(e, 0), jury_order.index(e)))
    result = [FinalEntry(e, i + 1, Fraction(crowd.get(e, 0), most) if most else Fraction(0), j_norm[e],
                         Fraction(crowd.get(e, 0), most) if most else Fraction(0)) for i, e in enumerate(shortlist)]
    return result + [FinalEntry(e, len(shortlist) + i + 1, Fraction(0), j_norm[e], Fraction(0), False)
                     for i, e in enumerate(rest)]


def largest_remainder(total: int, weights: Sequence[Fraction | int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, summing exactly to `total`.

    Each part gets the floor of its exact share; the cents left over go one each to the largest
    remainders, earlier parts first on equal remainders. All-zero weights split equally."""
    if not weights:
        return []
    shares = [Fraction(w) for w in weights]
    if sum(shares) == 0:
        shares = [Fraction(1)] * len(shares)
    whole = sum(shares)
    exact = [total * s / whole for s in shares]
    parts = [int(x.numerator // x.denominator) for x in exact]
    left = total - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class PrizeSplit:
    amounts: dict[int, int]  # entry -> cents
    undistributed_cents: int


def split_prizes(ranking: Sequence[FinalEntry], *, pot_cents: int, places: int, mode: PrizeMode | str,
                 fixed_cents: Sequence[int] = ()) -> PrizeSplit:
    """Share the pot among the top `places` entries: fixed amounts per rank, or in proportion to the final
    score (largest remainder). What no entry can take (fewer entries than places) stays undistributed."""
    winners = [f for f in ranking if f.shortlisted][:places] if places > 0 else []
    if PrizeMode(mode) == PrizeMode.FIXED:
        amounts = {f.entry: int(fixed_cents[i]) if i < len(fixed_cents) else 0 for i, f in enumerate(winners)}
    else:
        parts = largest_remainder(pot_cents, [f.final for f in winners])
        amounts = {f.entry: part for f, part in zip(winners, parts, strict=True)}
    return PrizeSplit(amounts, pot_cents - sum(amounts.values()))


def fixed_amounts_error(pot_cents: int, places: int, fixed_cents: Sequence[int]) -> str | None:
    """Return why fixed prize amounts do not fit the pot ("count" or "sum"), or None."""
    if len(fixed_cents) != places:
        return "count"
    if sum(fixed_cents) != pot_cents or any(c < 0 for c in fixed_cents):
        return "sum"
    return None
