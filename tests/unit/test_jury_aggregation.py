"""Aggregation against examples computed by hand: weighted totals, mean/median/spread, the juror-offset
model with a harsh juror who missed an entry through a conflict, and every step of the tie-break."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction as F

import pytest

from crowdfund.domain.jury import (
    TIE_BREAKS,
    Card,
    Criterion,
    entry_stats,
    normalise_weights,
    parse_weight,
    primary_criterion,
    rank_entries,
    score_errors,
    weighted_total,
)
from crowdfund.domain.jury_offsets import fit_offsets, is_complete_design, jury_scores, solve_linear

IMPACT = Criterion(1, Decimal(2), 0, 10, position=0)
FEASIBILITY = Criterion(2, Decimal(1), 1, 5, position=1)
ONE_TO_TEN = Criterion(7, Decimal(1), 0, 10)  # total = 10 x score: easy to follow by hand


def cards(criteria, rows):
    """rows: (entry, juror, {criterion key: score})."""
    return [Card(e, j, weighted_total(criteria, s), s) for e, j, s in rows]


def single(entry, juror, score):
    return Card(entry, juror, F(10 * score), {ONE_TO_TEN.key: score})


# --- weighted totals -----------------------------------------------------------------------------------------


def test_weights_are_normalised_to_sum_one_exactly():
    assert normalise_weights([2, 1]) == (F(2, 3), F(1, 3))
    assert normalise_weights(["1.5", "0,5"]) == (F(3, 4), F(1, 4))


@pytest.mark.parametrize("text", ["0", "-1", "abc", "NaN", "Infinity", ""])
def test_a_weight_must_be_a_positive_number(text):
    with pytest.raises(ValueError):
        parse_weight(text)


def test_weighted_total_puts_each_score_on_its_scale_then_weights_it():
    # Impact 7 on 0..10 sits at 70 points, feasibility 4 on 1..5 at 100 * 3/4 = 75 points;
    # weights 2:1 give 2/3 * 70 + 1/3 * 75 = 140/3 + 25 = 215/3.
    assert weighted_total([IMPACT, FEASIBILITY], {1: 7, 2: 4}) == F(215, 3)


def test_weighted_total_spans_zero_to_one_hundred():
    assert weighted_total([IMPACT, FEASIBILITY], {1: 0, 2: 1}) == 0
    assert weighted_total([IMPACT, FEASIBILITY], {1: 10, 2: 5}) == 100


def test_score_errors_name_missing_and_out_of_range_scores_and_drafts_may_have_gaps():
    assert score_errors([IMPACT, FEASIBILITY], {1: 11}, complete=True) == {1: "out_of_range", 2: "missing"}
    assert score_errors([IMPACT, FEASIBILITY], {1: 3}, complete=False) == {}
    assert score_errors([IMPACT, FEASIBILITY], {2: 0}, complete=False) == {2: "out_of_range"}


# --- mean, median, spread ------------------------------------------------------------------------------------


def test_entry_stats_give_mean_median_population_spread_top_marks_and_criterion_means():
    # Totals 60, 70, 90: mean 220/3, median 70; deviations -40/3, -10/3, 50/3 give the population
    # variance (1600 + 100 + 2500) / 9 / 3 = 1400/9, a spread of sqrt(1400/9) = 12.472 points.
    stats = entry_stats([ONE_TO_TEN], [single(1, 1, 6), single(1, 2, 7), single(1, 3, 9)])[1]
    assert (stats.count, stats.mean, stats.median, stats.variance) == (3, F(220, 3), F(70), F(1400, 9))
    assert stats.spread == pytest.approx(12.4722, abs=1e-4)
    assert stats.top_marks == 0 and stats.criterion_means == {7: F(22, 3)}


def test_the_median_of_an_even_number_of_totals_is_the_middle_pair_average():
    stats = entry_stats([ONE_TO_TEN], [single(1, j, s) for j, s in enumerate([9, 6, 8, 7])])[1]
    assert stats.median == 75 and stats.mean == 75


def test_top_marks_count_scores_at_the_top_of_each_scale():
    stats = entry_stats([IMPACT, FEASIBILITY], cards([IMPACT, FEASIBILITY], [
        (1, 1, {1: 10, 2: 5}), (1, 2, {1: 10, 2: 3}), (1, 3, {1: 9, 2: 5})]))[1]
    assert stats.top_marks == 4


# --- the juror-offset model ----------------------------------------------------------------------------------

# Jurors 11 and 12 are fair, juror 13 is harsh and has a conflict with entry A (1), so never scored it.
#            A (1)   B (2)   C (3)
# juror 11    70      80      50
# juror 12    70      80      50
# juror 13     –      20      30
HARSH = [(1, 11, 70), (1, 12, 70), (2, 11, 80), (2, 12, 80), (2, 13, 20), (3, 11, 50), (3, 12, 50), (3, 13, 30)]


def test_the_offset_model_matches_the_least_squares_solution_computed_by_hand():
    # By symmetry o11 = o12 = o, and the constraint makes o13 = -2o. Minimise
    #   2(70 - qA - o)^2 + 2(80 - qB - o)^2 + (20 - qB + 2o)^2 + 2(50 - qC - o)^2 + (30 - qC + 2o)^2.
    # d/dqA: qA = 70 - o.  d/dqB: 2(80 - qB - o) + (20 - qB + 2o) = 180 - 3qB = 0, so qB = 60.
    # d/dqC: 2(50 - qC - o) + (30 - qC + 2o) = 130 - 3qC = 0, so qC = 130/3.
    # d/do: -(80 - qB - o) + (20 - qB + 2o) - (50 - qC - o) + (30 - qC + 2o) = -80 + 6o = 0, so o = 40/3.
    # Hence qA = 170/3, offsets 40/3, 40/3, -80/3; residuals like 80 - 60 - 40/3 = 20/3 stay: a real fit.
    fit = fit_offsets((e, j, F(t)) for e, j, t in HARSH)
    assert fit.quality == {1: F(170, 3), 2: F(60), 3: F(130, 3)}
    assert fit.offset == {11: F(40, 3), 12: F(40, 3), 13: F(-80, 3)}
    assert sum(fit.offset.values()) == 0


def test_the_offset_model_undoes_the_harsh_jurors_missing_score_that_the_mean_rewards():
    rows = [single(e, j, t // 10) for e, j, t in HARSH]
    means = {e: s.mean for e, s in entry_stats([ONE_TO_TEN], rows).items()}
    assert means == {1: 70, 2: 60, 3: F(130, 3)}  # the mean puts A first: it escaped the harsh juror
    result = jury_scores(rows)
    assert result.method == "offset" and result.scores == {1: F(170, 3), 2: F(60), 3: F(130, 3)}
    ranked = rank_entries(entry_stats([ONE_TO_TEN], rows), result.scores, primary=ONE_TO_TEN.key)
    assert [r.entry for r in ranked] == [2, 1, 3]


def test_a_complete_design_uses_the_plain_mean_which_the_offset_model_reproduces():
    rows = [single(e, j, s) for e, j, s in [(1, 1, 8), (1, 2, 4), (2, 1, 6), (2, 2, 5)]]
    assert is_complete_design(rows)
    assert jury_scores(rows) == (({1: F(60), 2: F(55)}), "mean", {})
    assert fit_offsets((c.entry, c.juror, c.total) for c in rows).quality == {1: F(60), 2: F(55)}


def test_a_disconnected_design_falls_back_to_the_mean_and_says_so():
    rows = [single(1, 1, 8), single(2, 2, 4)]  # no juror shares an entry with the other
    assert fit_offsets((c.entry, c.juror, c.total) for c in rows) is None
    assert jury_scores(rows).method == "mean_disconnected"


def test_gaussian_elimination_pivots_past_a_zero_and_reports_a_singular_matrix():
    assert solve_linear([[F(0), F(1)], [F(2), F(1)]], [F(3), F(5)]) == [F(1), F(3)]
    assert solve_linear([[F(1), F(2)], [F(2), F(4)]], [F(1), F(2)]) is None


# --- the published tie-break order ---------------------------------------------------------------------------


def ranked(rows, criteria=(ONE_TO_TEN,), vote=()):
    stats = entry_stats(list(criteria), rows)
    primary = primary_criterion(list(criteria))
    return rank_entries(stats, {e: s.mean for e, s in stats.items()}, primary=primary.key, vote=vote)


def test_the_tie_break_steps_are_published_in_this_order():
    assert TIE_BREAKS == ("score", "median", "top_marks", "primary_criterion", "spread", "jury_vote")


def test_tie_break_one_the_higher_score_wins():
    result = ranked([single(1, 1, 5), single(2, 1, 6)])
    assert [(r.entry, r.position, r.decided_by) for r in result] == [(2, 1, None), (1, 2, "score")]


def test_tie_break_two_equal_scores_go_to_the_higher_median():
    # Entry 1: 40, 60, 80 (mean 60, median 60); entry 2: 50, 50, 80 (mean 60, median 50).
    rows = [single(1, j, s) for j, s in [(1, 4), (2, 6), (3, 8)]] + [single(2, j, s) for j, s in [(1, 5), (2, 5),
                                                                                                   (3, 8)]]
    assert [(r.entry, r.decided_by) for r in ranked(rows)] == [(1, None), (2, "median")]


def test_tie_break_three_then_the_count_of_top_marks():
    # Entry 1: 10, 5, 0 and entry 2: 6, 5, 4 both have mean 50 and median 50; only entry 1 has a top mark.
    rows = [single(2, j, s) for j, s in [(1, 6), (2, 5), (3, 4)]] + [single(1, j, s) for j, s in [(1, 10), (2, 5),
                                                                                                   (3, 0)]]
    assert [(r.entry, r.decided_by) for r in ranked(rows)] == [(1, None), (2, "top_marks")]


def test_tie_break_four_then_the_primary_criterion_the_one_with_the_highest_weight():
    # Weights 2 (primary) and 1 on 0..10. Entry 1: 6 and 3 gives (2*60 + 30)/3 = 50; entry 2: 3 and 9 gives
    # (2*30 + 90)/3 = 50. Same mean, median, no top marks; the primary criterion's mean is 6 against 3.
    primary, second = Criterion(1, Decimal(2), 0, 10, 1), Criterion(2, Decimal(1), 0, 10, 0)
    rows = cards([primary, second], [(2, 1, {1: 3, 2: 9}), (1, 1, {1: 6, 2: 3})])
    assert {c.total for c in rows} == {F(50)}
    assert [(r.entry, r.decided_by) for r in ranked(rows, (primary, second))] == [(1, None), (2, "primary_criterion")]


def test_the_primary_criterion_on_equal_weights_is_the_earlier_one():
    first, later = Criterion(5, Decimal(1), 0, 10, 0), Criterion(3, Decimal(1), 0, 10, 1)
    assert primary_criterion([later, first]) == first


def test_tie_break_five_then_the_smaller_spread():
    # Entry 1: 40, 50, 60 and entry 2: 30, 50, 70: same mean, median, top marks and criterion mean;
    # variances 200/3 and 800/3.
    rows = [single(2, j, s) for j, s in [(1, 3), (2, 5), (3, 7)]] + [single(1, j, s) for j, s in [(1, 4), (2, 5),
                                                                                                   (3, 6)]]
    assert [(r.entry, r.decided_by) for r in ranked(rows)] == [(1, None), (2, "spread")]


def test_tie_break_six_a_recorded_jury_vote_and_without_one_a_shared_place():
    rows = [single(1, 1, 5), single(1, 2, 5), single(2, 1, 5), single(2, 2, 5)]
    assert [(r.entry, r.position) for r in ranked(rows)] == [(1, 1), (2, 1)]
    result = ranked(rows, vote=[2, 1])
    assert [(r.entry, r.position, r.decided_by) for r in result] == [(2, 1, None), (1, 2, "jury_vote")]
