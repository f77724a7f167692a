"""The additive juror-offset model: total(entry, juror) = quality(entry) + offset(juror).

Fitted by least squares with the offsets summing to zero (Cornell's revNorm; Roos et al., AAAI 2011):
a harsh juror's low totals are read as a negative offset instead of as weak entries, which matters when
jurors scored different subsets (conflicts, partial assignment). The normal equations are solved exactly
with fractions. On a complete design the qualities equal the plain means, which are then used directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from crowdfund.domain.jury import Card, entry_stats


@dataclass(frozen=True)
class OffsetFit:
    quality: Mapping[int, Fraction]
    offset: Mapping[int, Fraction]


def solve_linear(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction] | None:
    """Solve matrix x = rhs by Gaussian elimination with partial pivoting; None if singular."""
    n = len(matrix)
    rows = [[*row, b] for row, b in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if rows[pivot][col] == 0:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            if factor:
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    solution = [Fraction(0)] * n
    for r in range(n - 1, -1, -1):
        known = sum((rows[r][c] * solution[c] for c in range(r + 1, n)), Fraction(0))
        solution[r] = (rows[r][n] - known) / rows[r][r]
    return solution


def fit_offsets(observations: Iterable[tuple[int, int, Fraction]]) -> OffsetFit | None:
    """Fit total(entry, juror) = quality(entry) + offset(juror) by least squares, offsets summing to 0.

    Solves the normal equations with a Lagrange multiplier for the constraint. Returns None when the
    design is not connected (some jurors share no entries, directly or through others): then the
    qualities are not comparable."""
    obs = sorted(observations)
    entries = sorted({e for e, _j, _s in obs})
    jurors = sorted({j for _e, j, _s in obs})
    e_ix = {e: i for i, e in enumerate(entries)}
    j_ix = {j: len(entries) + i for i, j in enumerate(jurors)}
    size = len(entries) + len(jurors) + 1  # the last unknown is the multiplier
    matrix = [[Fraction(0)] * size for _ in range(size)]
    rhs = [Fraction(0)] * size
    for entry, juror, total in obs:
        q, o = e_ix[entry], j_ix[juror]
        for row in (q, o):
            matrix[row][q] += 1
            matrix[row][o] += 1
            rhs[row] += total
    for o in j_ix.values():
        matrix[o][size - 1] = Fraction(1)
        matrix[size - 1][o] = Fraction(1)
    solution = solve_linear(matrix, rhs)
    if solution is None:
        return None
    return OffsetFit({e: solution[i] for e, i in e_ix.items()}, {j: solution[i] for j, i in j_ix.items()})


def is_complete_design(cards: Sequence[Card]) -> bool:
    """Tell whether every juror who scored anything scored every entry that has a card."""
    pairs = {(c.entry, c.juror) for c in cards}
    entries, jurors = {c.entry for c in cards}, {c.juror for c in cards}
    return len(pairs) == len(entries) * len(jurors)


class JuryScores(NamedTuple):
    scores: dict[int, Fraction]
    method: str  # "mean" | "offset" | "mean_disconnected"
    offsets: dict[int, Fraction]


def jury_scores(cards: Sequence[Card]) -> JuryScores:
    """Return each entry's jury score: the mean on a complete design, else the offset model's quality.

    A disconnected design cannot be fitted; the mean is used then and the method says so."""
    stats = {e: s.mean for e, s in entry_stats([], cards).items()}
    if is_complete_design(cards):
        return JuryScores(stats, "mean", {})
    fit = fit_offsets((c.entry, c.juror, c.total) for c in cards)
    if fit is None:
        return JuryScores(stats, "mean_disconnected", {})
    return JuryScores(dict(fit.quality), "offset", dict(fit.offset))
