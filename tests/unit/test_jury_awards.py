"""Crowd index, final ranking and prize split, against examples computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction as F

import pytest

from crowdfund.domain.jury_awards import (
    FinalEntry,
    PledgeFact,
    crowd_index,
    fixed_amounts_error,
    format_share,
    largest_remainder,
    min_max,
    parse_share,
    preselect_ranking,
    split_prizes,
    weighted_ranking,
)

DEADLINE = datetime(2027, 6, 30, 21, 59, tzinfo=UTC)
BEFORE = DEADLINE - timedelta(days=3)


def pledge(backer, cents, *, counting=True, at=BEFORE):
    return PledgeFact(backer, cents, counting, at)


def test_the_crowd_index_counts_distinct_backers_above_the_minimum_and_ignores_the_team_and_late_pledges():
    pledges = [
        pledge(1, 10_000),  # the initiator's own pledge
        pledge(2, 300),  # under the 5 EUR minimum
        pledge(3, 1_000), pledge(3, 1_000),  # one backer, two pledges
        pledge(4, 5_000, counting=False),  # cancelled
        pledge(5, 2_000, at=DEADLINE + timedelta(seconds=1)),  # after the deadline: frozen out
        pledge(6, 500),  # exactly the minimum counts
        pledge(7, 700, at=DEADLINE),  # at the deadline still counts
    ]
    index = crowd_index(pledges, team_ids={1}, minimum_cents=500, threshold_cents=100_000, deadline=DEADLINE)
    # backers 3, 6, 7; 1000 + 1000 + 500 + 700 = 3200 cents, 3.2 % of the threshold, floored to 3
    assert (index.backers, index.amount_cents, index.percent) == (3, 3_200, 3)


def test_min_max_maps_onto_zero_to_one_and_equal_values_onto_one():
    assert min_max({1: F(80), 2: F(60), 3: F(40)}) == {1: 1, 2: F(1, 2), 3: 0}
    assert min_max({1: F(7), 2: F(7)}) == {1: 1, 2: 1}


@pytest.mark.parametrize(("text", "share"), [("0.6", F(3, 5)), ("0,25", F(1, 4)), ("1", F(1)), ("0", F(0))])
def test_the_jury_share_is_read_exactly(text, share):
    assert parse_share(text) == share


@pytest.mark.parametrize(("share", "text"), [(F(3, 5), "0.6"), (F(1), "1"), (F(1, 8), "0.125"), (F(1, 3), "1/3")])
def test_a_share_is_written_as_a_decimal_where_that_is_exact(share, text):
    assert format_share(share) == text and parse_share(text) == share


@pytest.mark.parametrize("text", ["1.2", "-0.1", "half"])
def test_a_jury_share_outside_zero_to_one_is_refused(text):
    with pytest.raises(ValueError):
        parse_share(text)


JURY = {1: F(80), 2: F(60), 3: F(40)}
CROWD = {1: 10, 2: 30, 3: 20}


def test_the_weighted_rule_combines_normalised_jury_score_and_crowd_index():
    # jury' = 1, 1/2, 0 and crowd' = 0, 1, 1/2; with w = 1/2 the finals are 1/2, 3/4, 1/4.
    result = weighted_ranking([1, 2, 3], JURY, CROWD, F(1, 2))
    assert [(f.entry, f.position, f.final) for f in result] == [(2, 1, F(3, 4)), (1, 2, F(1, 2)), (3, 3, F(1, 4))]
    # with w = 4/5: 4/5, 2/5 + 1/5 = 3/5, 1/10
    assert [f.entry for f in weighted_ranking([1, 2, 3], JURY, CROWD, F(4, 5))] == [1, 2, 3]


def test_equal_final_scores_keep_the_jury_order():
    result = weighted_ranking([2, 1], {1: F(50), 2: F(60)}, {1: 20, 2: 10}, F(1, 2))
    assert [f.entry for f in result] == [2, 1] and result[0].final == result[1].final


def test_the_jury_preselects_the_top_n_and_the_crowd_decides_among_them():
    result = preselect_ranking([1, 2, 3], JURY, CROWD, 2)
    assert [(f.entry, f.shortlisted, f.final) for f in result] == [(2, True, F(1)), (1, True, F(1, 3)),
                                                                   (3, False, F(0))]


def test_largest_remainder_hands_the_leftover_cents_to_the_largest_remainders():
    # 100 cents as 3/4 : 1/2 : 1/4 are 50, 33.33, 16.67: floors 50, 33, 16 and the last cent to 16.67.
    assert largest_remainder(100, [F(3, 4), F(1, 2), F(1, 4)]) == [50, 33, 17]
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]  # equal remainders: the better place first
    assert largest_remainder(99, [0, 0, 0]) == [33, 33, 33]  # no scores at all: equal shares


def finals(*scores):
    return [FinalEntry(i + 1, i + 1, F(s), F(0), F(0)) for i, s in enumerate(scores)]


def test_the_prize_pot_is_split_proportionally_among_the_top_places_to_the_cent():
    split = split_prizes(finals(F(3, 4), F(1, 2), F(1, 4), F(1, 8)), pot_cents=1_200_000, places=3,
                         mode="proportional")
    assert split.amounts == {1: 600_000, 2: 400_000, 3: 200_000} and split.undistributed_cents == 0


def test_fixed_prizes_follow_the_ranks_and_must_add_up_to_the_pot():
    split = split_prizes(finals(1, 0.5, 0.2), pot_cents=1_200_000, places=3, mode="fixed",
                         fixed_cents=[500_000, 400_000, 300_000])
    assert split.amounts == {1: 500_000, 2: 400_000, 3: 300_000}
    assert fixed_amounts_error(1_200_000, 3, [500_000, 400_000, 300_000]) is None
    assert fixed_amounts_error(1_200_000, 3, [500_000, 400_000]) == "count"
    assert fixed_amounts_error(1_200_000, 3, [500_000, 400_000, 200_000]) == "sum"


def test_fewer_entries_than_places_leave_the_rest_of_fixed_prizes_undistributed():
    split = split_prizes(finals(1), pot_cents=900, places=2, mode="fixed", fixed_cents=[600, 300])
    assert split.amounts == {1: 600} and split.undistributed_cents == 300


def test_only_the_shortlisted_entries_can_win_under_pre_selection():
    ranking = preselect_ranking([1, 2, 3], JURY, CROWD, 1)
    assert split_prizes(ranking, pot_cents=1_000, places=2, mode="proportional").amounts == {1: 1_000}
