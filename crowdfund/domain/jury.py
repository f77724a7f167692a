"""The jury: its phases as a transition table, criteria weights, scorecard totals and their aggregation.

Exact arithmetic throughout (fractions.Fraction): a score is a fraction of points on a 0..100 scale, so
ranking ties are real ties and never artefacts of rounding. Display code rounds; this module never does.

Aggregation (documented choices):
- weighted total of a scorecard = sum over criteria of weight x position on the criterion's scale, where
  weights are normalised to sum 1 and a score s on scale min..max sits at 100 * (s - min) / (max - min);
- entry statistics: mean and median of the totals; spread = population standard deviation of the totals
  (compared exactly through the variance);
- jury score = the mean when every juror scored every entry, otherwise the additive juror-offset model
  score(entry, juror) = quality(entry) + offset(juror), fitted by least squares with the offsets summing
  to zero (jury_offsets.py). On a complete design both give the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from math import sqrt
from types import MappingProxyType
from typing import NamedTuple

SCALE_POINTS = 100


class Phase(StrEnum):
    CONFLICTS = "conflicts"
    SCORING = "scoring"
    DISCUSSION = "discussion"
    DECISION = "decision"
    PUBLISHED = "published"


class PhaseAction(StrEnum):
    OPEN_SCORING = "open_scoring"
    OPEN_DISCUSSION = "open_discussion"
    REOPEN_SCORING = "reopen_scoring"
    OPEN_DECISION = "open_decision"
    PUBLISH = "publish"


class PhaseRule(NamedTuple):
    sources: frozenset[Phase]
    target: Phase


_P = Phase
TRANSITIONS: Mapping[PhaseAction, PhaseRule] = MappingProxyType({
    PhaseAction.OPEN_SCORING: PhaseRule(frozenset({_P.CONFLICTS}), _P.SCORING),
    PhaseAction.OPEN_DISCUSSION: PhaseRule(frozenset({_P.SCORING}), _P.DISCUSSION),
    PhaseAction.REOPEN_SCORING: PhaseRule(frozenset({_P.DISCUSSION, _P.DECISION}), _P.SCORING),
    PhaseAction.OPEN_DECISION: PhaseRule(frozenset({_P.DISCUSSION}), _P.DECISION),
    PhaseAction.PUBLISH: PhaseRule(frozenset({_P.DECISION}), _P.PUBLISHED),
})
# What each phase allows.
CONFLICT_PHASES = frozenset({_P.CONFLICTS, _P.SCORING})
SETUP_PHASES = frozenset({_P.CONFLICTS})
SCORING_PHASES = frozenset({_P.SCORING, _P.DISCUSSION})
RESULT_PHASES = frozenset({_P.DISCUSSION, _P.DECISION, _P.PUBLISHED})


class IllegalPhaseTransition(Exception):
    """A phase change the jury's transition table does not allow."""

    def __init__(self, phase: Phase, action: PhaseAction) -> None:
        self.phase, self.action = phase, action
        super().__init__(f"The jury cannot {action.replace('_', ' ')} in phase '{phase}'.")


def next_phase(phase: Phase | str, action: PhaseAction | str) -> Phase:
    """Return the phase after `action`; a repeat keeps the phase, anything unlisted raises."""
    phase, action = Phase(phase), PhaseAction(action)
    rule = TRANSITIONS[action]
    if phase == rule.target or phase in rule.sources:
        return rule.target
    raise IllegalPhaseTransition(phase, action)


def is_repeat(phase: Phase | str, action: PhaseAction | str) -> bool:
    """Tell whether `action` finds the jury already in its target phase (a no-op)."""
    return Phase(phase) == TRANSITIONS[PhaseAction(action)].target


def allowed_actions(phase: Phase | str) -> tuple[PhaseAction, ...]:
    """Return the actions that move the jury out of `phase`, in table order."""
    return tuple(a for a, rule in TRANSITIONS.items() if Phase(phase) in rule.sources)


class ConflictKind(StrEnum):
    OWN_PROJECT = "own_project"
    COLLABORATOR = "collaborator"
    INSTITUTIONAL = "institutional"
    PERSONAL = "personal"
    OTHER = "other"


# --- criteria and scorecards -------------------------------------------------------------------------


def parse_weight(text: str | int | Decimal) -> Decimal:
    """Return a criterion weight: a positive integer or decimal (given as text, never as float)."""
    try:
        weight = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not weight.is_finite() or weight <= 0:
        raise ValueError(f"a weight must be positive, got {text!r}")
    return weight


def normalise_weights(weights: Sequence[Decimal | int | str]) -> tuple[Fraction, ...]:
    """Scale positive weights so they sum to exactly 1."""
    raw = [Fraction(parse_weight(w)) for w in weights]
    total = sum(raw, Fraction(0))
    return tuple(w / total for w in raw)


@dataclass(frozen=True)
class Criterion:
    key: int
    weight: Decimal
    scale_min: int
    scale_max: int
    position: int = 0


def primary_criterion(criteria: Sequence[Criterion]) -> Criterion | None:
    """Return the criterion with the highest weight; ties go to the earlier position (then key)."""
    if not criteria:
        return None
    return min(criteria, key=lambda c: (-c.weight, c.position, c.key))


def score_errors(criteria: Sequence[Criterion], scores: Mapping[int, int | None], *,
                 complete: bool) -> dict[int, str]:
    """Return "missing" or "out_of_range" per criterion; drafts (`complete=False`) may leave gaps."""
    errors: dict[int, str] = {}
    for c in criteria:
        value = scores.get(c.key)
        if value is None:
            if complete:
                errors[c.key] = "missing"
        elif not c.scale_min <= value <= c.scale_max:
            errors[c.key] = "out_of_range"
    return errors


def weighted_total(criteria: Sequence[Criterion], scores: Mapping[int, int]) -> Fraction:
    """Return a complete scorecard's total on 0..100: normalised weights x position on each scale."""
    weights = normalise_weights([c.weight for c in criteria])
    total = Fraction(0)
    for c, w in zip(criteria, weights, strict=True):
        total += w * Fraction(SCALE_POINTS * (scores[c.key] - c.scale_min), c.scale_max - c.scale_min)
    return total


@dataclass(frozen=True)
class Card:
    """A submitted scorecard reduced to what aggregation needs."""

    entry: int
    juror: int
    total: Fraction
    scores: Mapping[int, int]


@dataclass(frozen=True)
class EntryStats:
    entry: int
    count: int
    mean: Fraction
    median: Fraction
    variance: Fraction  # population variance of the totals
    top_marks: int  # scores at the top of their criterion's scale, over all cards
    criterion_means: Mapping[int, Fraction]

    @property
    def spread(self) -> float:
        """Population standard deviation of the totals, in points."""
        return sqrt(self.variance)


def mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def median(values: Sequence[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def population_variance(values: Sequence[Fraction]) -> Fraction:
    centre = mean(values)
    return sum(((v - centre) ** 2 for v in values), Fraction(0)) / len(values)


def entry_stats(criteria: Sequence[Criterion], cards: Iterable[Card]) -> dict[int, EntryStats]:
    """Return mean, median, spread, top marks and per-criterion means of each entry's totals."""
    by_entry: dict[int, list[Card]] = defaultdict(list)
    for card in cards:
        by_entry[card.entry].append(card)
    return {entry: _stats(criteria, entry, group) for entry, group in by_entry.items()}


def _stats(criteria: Sequence[Criterion], entry: int, cards: list[Card]) -> EntryStats:
    totals = [c.total for c in cards]
    tops = sum(1 for card in cards for c in criteria if card.scores.get(c.key) == c.scale_max)
    means = {c.key: mean([Fraction(card.scores[c.key]) for card in cards]) for c in criteria}
    return EntryStats(entry, len(cards), mean(totals), median(totals), population_variance(totals), tops, means)


# --- ranking with the published tie-break order ------------------------------------------------------------

TIE_BREAKS: tuple[str, ...] = ("score", "median", "top_marks", "primary_criterion", "spread", "jury_vote")


@dataclass(frozen=True)
class RankedEntry:
    entry: int
    position: int  # 1-based; entries still tied after every step share a position
    score: Fraction
    decided_by: str | None  # the tie-break step that put it behind the previous entry; None for the first


def rank_entries(stats: Mapping[int, EntryStats], scores: Mapping[int, Fraction], *,
                 primary: int | None, vote: Sequence[int] = ()) -> list[RankedEntry]:
    """Order entries by score, then median, top marks, primary criterion mean, smaller spread, jury vote.

    `vote` lists entries in the order of a recorded jury vote; entries it leaves out come after those it
    names. Entries equal on every step share a position (and are listed by id for a stable order)."""
    vote_rank = {entry: i for i, entry in enumerate(vote)}

    def key(entry: int) -> tuple:
        s = stats[entry]
        primary_mean = s.criterion_means.get(primary, Fraction(0)) if primary is not None else Fraction(0)
        return (-scores[entry], -s.median, -s.top_marks, -primary_mean, s.variance,
                vote_rank.get(entry, len(vote_rank)))

    ordered = sorted(scores, key=lambda e: (key(e), e))
    ranked: list[RankedEntry] = []
    for i, entry in enumerate(ordered):
        step = None if i == 0 else _first_difference(key(ordered[i - 1]), key(entry))
        position = ranked[-1].position if i and step is None else i + 1
        ranked.append(RankedEntry(entry, position, scores[entry], step if i else None))
    return ranked


def _first_difference(a: tuple, b: tuple) -> str | None:
    for name, x, y in zip(TIE_BREAKS, a, b, strict=True):
        if x != y:
            return name
    return None
