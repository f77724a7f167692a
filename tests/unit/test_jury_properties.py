"""Properties of the aggregation, the prize split and the assignment, checked with hypothesis."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfund.domain.jury import Card, Criterion, entry_stats, rank_entries, weighted_total
from crowdfund.domain.jury_assignment import assign
from crowdfund.domain.jury_awards import largest_remainder, split_prizes, weighted_ranking
from crowdfund.domain.jury_offsets import jury_scores

CRITERIA = [Criterion(1, Decimal(2), 1, 10, 0), Criterion(2, Decimal(1), 0, 4, 1)]
SCORE = st.fixed_dictionaries({1: st.integers(1, 10), 2: st.integers(0, 4)})


@st.composite
def designs(draw):
    """A connected-or-not design: 2-5 entries, 2-4 jurors, each pair scored with some probability."""
    entries = draw(st.integers(2, 5))
    jurors = draw(st.integers(2, 4))
    present = draw(st.lists(st.booleans(), min_size=entries * jurors, max_size=entries * jurors))
    pairs = [(e, 100 + j) for e in range(entries) for j in range(jurors) if present[e * jurors + j]]
    if not pairs:
        pairs = [(0, 100)]
    scores = draw(st.lists(SCORE, min_size=len(pairs), max_size=len(pairs)))
    return [Card(e, j, weighted_total(CRITERIA, s), s) for (e, j), s in zip(pairs, scores, strict=True)]


def outcome(cards):
    result = jury_scores(cards)
    stats = entry_stats(CRITERIA, cards)
    ranking = rank_entries(stats, result.scores, primary=1)
    return result.scores, result.method, [(r.entry, r.position) for r in ranking]


@settings(max_examples=150, deadline=None, database=None)
@given(designs(), st.randoms())
def test_the_order_in_which_cards_arrive_changes_nothing(cards, rnd):
    shuffled = list(cards)
    rnd.shuffle(shuffled)
    assert outcome(shuffled) == outcome(cards)


@settings(max_examples=150, deadline=None, database=None)
@given(designs(), st.randoms())
def test_renaming_the_jurors_changes_nothing(cards, rnd):
    jurors = sorted({c.juror for c in cards})
    renamed = dict(zip(jurors, rnd.sample(range(500, 600), len(jurors)), strict=True))
    moved = [Card(c.entry, renamed[c.juror], c.total, c.scores) for c in cards]
    assert outcome(moved)[:2] == outcome(cards)[:2]


@settings(max_examples=150, deadline=None, database=None)
@given(designs(), st.randoms())
def test_permuting_the_entries_permutes_their_scores_and_nothing_else(cards, rnd):
    entries = sorted({c.entry for c in cards})
    mapping = dict(zip(entries, rnd.sample(entries, len(entries)), strict=True))
    moved = jury_scores([Card(mapping[c.entry], c.juror, c.total, c.scores) for c in cards])
    original = jury_scores(cards)
    assert moved.method == original.method
    assert {mapping[e]: s for e, s in original.scores.items()} == moved.scores


@settings(max_examples=200, deadline=None, database=None)
@given(designs(), st.data())
def test_raising_one_score_never_lowers_that_entrys_jury_score(cards, data):
    i = data.draw(st.integers(0, len(cards) - 1))
    card = cards[i]
    criterion = data.draw(st.sampled_from(CRITERIA))
    if card.scores[criterion.key] == criterion.scale_max:
        return
    raised = {**card.scores, criterion.key: data.draw(st.integers(card.scores[criterion.key] + 1,
                                                                  criterion.scale_max))}
    changed = [*cards[:i], Card(card.entry, card.juror, weighted_total(CRITERIA, raised), raised), *cards[i + 1:]]
    assert jury_scores(changed).scores[card.entry] >= jury_scores(cards).scores[card.entry]


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(0, 10_000_000), st.lists(st.fractions(min_value=0, max_value=1), min_size=1, max_size=12))
def test_the_prize_split_always_sums_exactly_to_the_pot(pot, weights):
    parts = largest_remainder(pot, weights)
    assert sum(parts) == pot and all(p >= 0 for p in parts)


@settings(max_examples=150, deadline=None, database=None)
@given(st.integers(0, 5_000_000), st.dictionaries(st.integers(1, 30), st.fractions(0, 100), min_size=1, max_size=10),
       st.integers(1, 10), st.fractions(0, 1))
def test_the_proportional_split_of_a_ranking_sums_to_the_pot(pot, jury, places, w):
    ranking = weighted_ranking(sorted(jury), jury, {e: e % 7 for e in jury}, w)
    split = split_prizes(ranking, pot_cents=pot, places=places, mode="proportional")
    assert sum(split.amounts.values()) == pot and split.undistributed_cents == 0


def best_spread(entries, jurors, conflicts, k):
    """Brute force: the smallest max-min load any conflict-free assignment of k per entry achieves."""
    eligible = {e: [j for j in jurors if (j, e) not in conflicts] for e in entries}
    choices = [list(itertools.combinations(eligible[e], k)) for e in entries]
    best = None
    for combo in itertools.product(*choices):
        loads = dict.fromkeys(jurors, 0)
        for chosen in combo:
            for j in chosen:
                loads[j] += 1
        spread = max(loads.values()) - min(loads.values())
        best = spread if best is None else min(best, spread)
    return best


@st.composite
def assignment_cases(draw):
    entries = list(range(draw(st.integers(1, 5))))
    jurors = list(range(10, 10 + draw(st.integers(1, 4))))
    k = draw(st.integers(1, len(jurors)))
    pairs = [(j, e) for j in jurors for e in entries]
    conflicts = {p for p, hit in zip(pairs, draw(st.lists(st.booleans(), min_size=len(pairs),
                                                          max_size=len(pairs))), strict=True) if hit}
    return entries, jurors, conflicts, k


@settings(max_examples=250, deadline=None, database=None)
@given(assignment_cases(), st.randoms())
def test_assignment_avoids_conflicts_and_balances_loads_within_one_whenever_possible(case, rnd):
    entries, jurors, conflicts, k = case
    result = assign(entries, jurors, conflicts, k)
    assert not result.pairs & conflicts
    for e in entries:
        eligible = [j for j in jurors if (j, e) not in conflicts]
        assert sum(1 for _j, x in result.pairs if x == e) == min(k, len(eligible))
    loads = result.loads(jurors)
    spread = max(loads.values()) - min(loads.values())
    if not result.short_entries:
        assert spread <= max(1, best_spread(entries, jurors, conflicts, k))
    shuffled = assign(rnd.sample(entries, len(entries)), rnd.sample(jurors, len(jurors)), conflicts, k)
    assert shuffled == result  # deterministic whatever the input order


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(1, 40), st.integers(1, 12), st.data())
def test_without_conflicts_loads_always_differ_by_at_most_one(n_entries, n_jurors, data):
    k = data.draw(st.integers(1, n_jurors))
    result = assign(range(n_entries), range(100, 100 + n_jurors), set(), k)
    loads = result.loads(range(100, 100 + n_jurors)).values()
    assert max(loads) - min(loads) <= 1 and len(result.pairs) == n_entries * k


def test_the_whole_panel_scores_every_entry_except_its_conflicts():
    result = assign([1, 2], [10, 11], {(10, 2)})
    assert result.pairs == {(10, 1), (11, 1), (11, 2)}


def test_an_entry_with_too_few_eligible_jurors_gets_all_there_are_and_is_reported():
    result = assign([1, 2], [10, 11, 12], {(10, 1), (11, 1)}, 2)
    assert {j for j, e in result.pairs if e == 1} == {12} and result.short_entries == (1,)
