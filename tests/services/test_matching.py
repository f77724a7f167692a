"""Matchfunding: pots top up active pledges by a ratio under caps and a budget, for the projects they admit;
matches are released or realised with their pledges, and every change is audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import product

import pytest
from sqlalchemy import event, select, update

from crowdfund.domain.matching import IllegalMatchTransition, MatchStatus, is_match_move, pot_admits, pot_errors
from crowdfund.models.audit import AuditEntry
from crowdfund.models.matching import Match, MatchingPot
from crowdfund.services import matching
from crowdfund.services.matching import MatchLine, MatchNotRealisable, PotData, PotInvalid
from tests.factories import make_backers, make_campaign, make_campaign_world, make_contest, make_pledge, make_user


def make_pot(session, **fields) -> MatchingPot:
    """A pot committed as a row: 1:1, 10,000 EUR, no caps, every project, active, unless `fields` say otherwise."""
    values = {"sponsor_name": "Wirtschaftsförderung", "budget_cents": 1_000_000, "ratio_percent": 100,
              "district_slugs": [], "categories": [], "active": True, **fields}
    pot = MatchingPot(**values)
    session.add(pot)
    session.commit()
    return pot


@contextmanager
def counted(session) -> Iterator[list[str]]:
    """Collect the SQL statements the session's engine runs."""
    statements: list[str] = []
    engine = session.get_bind()

    def count(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def world(session):
    return make_campaign_world(session)


@pytest.fixture
def project(session, world):
    return make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                         category="neighbourhood")


@pytest.fixture
def backer(session):
    return make_user(session, name="Bea Backer")


def reserve(session, project, backer, amount_cents: int) -> Match | None:
    pledge = make_pledge(session, project, backer, amount_cents)
    match = matching.reserve_match(session, pledge)
    session.commit()
    return match


def audit_rows(session, entity_type: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_type == entity_type)
                                .order_by(AuditEntry.id)))


# --- reserving ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ratio", "pledged", "matched"), [(100, 5_000, 5_000), (50, 5_000, 2_500),
                                                           (200, 5_000, 10_000), (33, 1_001, 330)])
def test_a_match_is_the_pledge_times_the_pots_ratio_rounded_down(session, project, backer, ratio, pledged, matched):
    pot = make_pot(session, ratio_percent=ratio)
    match = reserve(session, project, backer, pledged)
    assert (match.pot_id, match.amount_cents, match.status) == (pot.id, matched, "reserved")


def test_the_cap_per_pledge_limits_each_match(session, project, backer):
    make_pot(session, cap_per_pledge_cents=2_000)
    # two backers: one open pledge per backer and project
    assert [reserve(session, project, b, 5_000).amount_cents for b in (backer, make_user(session))] == [2_000, 2_000]


def test_the_cap_per_backer_counts_all_of_the_backers_matches_in_the_pot(session, world, project, backer):
    make_pot(session, cap_per_backer_cents=8_000)
    other_project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    assert reserve(session, project, backer, 5_000).amount_cents == 5_000
    assert reserve(session, other_project, backer, 5_000).amount_cents == 3_000
    third_project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    assert reserve(session, third_project, backer, 5_000) is None
    assert reserve(session, project, make_user(session), 5_000).amount_cents == 5_000


def test_the_cap_per_project_counts_every_backers_matches_for_the_project(session, world, project):
    make_pot(session, cap_per_project_cents=12_000)
    backers = make_backers(session, 4)
    assert [getattr(reserve(session, project, b, 5_000), "amount_cents", None) for b in backers] == [
        5_000, 5_000, 2_000, None]
    other_project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    assert reserve(session, other_project, backers[0], 5_000).amount_cents == 5_000


def test_the_budget_is_never_exceeded_and_the_last_match_gets_what_is_left(session, project):
    pot = make_pot(session, budget_cents=12_000)
    backers = make_backers(session, 4)
    amounts = [getattr(reserve(session, project, b, 5_000), "amount_cents", None) for b in backers]
    assert amounts == [5_000, 5_000, 2_000, None]
    assert matching.pot_remaining(session, pot) == 0


def test_the_next_eligible_pot_steps_in_when_the_first_is_spent(session, project):
    first = make_pot(session, budget_cents=5_000)
    second = make_pot(session, sponsor_name="Stadtsparkasse", budget_cents=100_000)
    backers = make_backers(session, 2)
    matches = [reserve(session, project, b, 5_000) for b in backers]
    assert [(m.pot_id, m.amount_cents) for m in matches] == [(first.id, 5_000), (second.id, 5_000)]


@pytest.mark.parametrize(("rule", "admitted"), [
    ({}, True),
    ({"district_slugs": ["mitte", "wesertor"]}, True),
    ({"district_slugs": ["wesertor"]}, False),
    ({"categories": ["neighbourhood"]}, True),
    ({"categories": ["digital", "culture"]}, False),
    ({"contest": "own"}, True),
    ({"contest": "other"}, False),
    ({"active": False}, False),
])
def test_a_pot_matches_only_projects_its_contest_districts_and_categories_admit_and_only_while_active(
        session, world, project, backer, rule, admitted):
    if "contest" in rule:
        contest = world.contest if rule.pop("contest") == "own" else make_contest(session)
        rule["contest_id"] = contest.id
    make_pot(session, **rule)
    assert (reserve(session, project, backer, 5_000) is not None) is admitted


def test_a_pot_edited_after_this_session_read_it_is_judged_by_its_committed_rule(session, project, backer):
    pot = make_pot(session)
    pledge = make_pledge(session, project, backer, 5_000)
    assert matching.eligible_pots(session, project) == [pot]  # loaded while it admits every district
    with session.get_bind().begin() as conn:  # an admin's edit, committed by another connection
        conn.execute(update(MatchingPot).values(district_slugs=["wesertor"]))
    assert matching.reserve_match(session, pledge) is None


def test_only_an_active_pledge_is_matched(session, project, backer):
    make_pot(session)
    pledge = make_pledge(session, project, backer, 5_000, status="pending_setup")
    with pytest.raises(ValueError, match="only an active pledge"):
        matching.reserve_match(session, pledge)
    assert session.scalars(select(Match)).all() == []


# --- idempotence, release, realisation --------------------------------------------------------------------------


def test_reserving_again_for_the_same_pledge_returns_its_match_and_writes_nothing(session, project, backer):
    make_pot(session)
    pledge = make_pledge(session, project, backer, 5_000)
    first = matching.reserve_match(session, pledge, actor_id=backer.id)
    again = matching.reserve_match(session, pledge, actor_id=backer.id)
    session.commit()
    assert again is first and len(session.scalars(select(Match)).all()) == 1
    assert [(a.action, a.to_state, a.actor_id) for a in audit_rows(session, "match")] == [
        ("reserve", "reserved", backer.id)]


def test_releasing_gives_the_budget_back_and_a_repeat_changes_nothing(session, project, backer):
    pot = make_pot(session, budget_cents=5_000)
    pledge = make_pledge(session, project, backer, 5_000)
    matching.reserve_match(session, pledge)
    assert matching.pot_remaining(session, pot) == 0
    pledge.status = "cancelled"
    assert matching.release_match(session, pledge).status == "released"
    assert matching.release_match(session, pledge).status == "released"
    session.commit()
    assert matching.pot_remaining(session, pot) == 5_000
    assert reserve(session, project, make_user(session), 5_000).amount_cents == 5_000
    assert [a.action for a in audit_rows(session, "match")] == ["reserve", "released", "reserve"]


def test_realising_keeps_the_budget_spent_and_a_repeat_changes_nothing(session, project, backer):
    pot = make_pot(session, budget_cents=8_000)
    pledge = make_pledge(session, project, backer, 5_000)
    matching.reserve_match(session, pledge)
    project.state, pledge.status = "funded", "paid"
    assert matching.realise_match(session, pledge).status == "realised"
    assert matching.realise_match(session, pledge).status == "realised"
    session.commit()
    assert matching.pot_remaining(session, pot) == 3_000
    assert [(a.action, a.from_state, a.to_state) for a in audit_rows(session, "match")] == [
        ("reserve", None, "reserved"), ("realised", "reserved", "realised")]


def test_a_match_is_realised_only_for_a_paid_pledge_of_a_funded_project(session, project, backer):
    make_pot(session)
    pledge = make_pledge(session, project, backer, 5_000)
    matching.reserve_match(session, pledge)
    pledge.status = "paid"  # the project is still live
    with pytest.raises(MatchNotRealisable):
        matching.realise_match(session, pledge)
    project.state, pledge.status = "funded", "charging"
    with pytest.raises(MatchNotRealisable):
        matching.realise_match(session, pledge)
    assert session.scalars(select(Match.status)).one() == "reserved"


def test_a_realised_match_is_never_released_and_a_released_one_never_realised(session, project, backer):
    make_pot(session)
    paid, cancelled = (make_pledge(session, project, b, 5_000) for b in (backer, make_user(session)))
    for pledge in (paid, cancelled):
        matching.reserve_match(session, pledge)
    project.state, paid.status, cancelled.status = "funded", "paid", "cancelled"
    matching.realise_match(session, paid)
    matching.release_match(session, cancelled)
    cancelled.status = "paid"
    with pytest.raises(IllegalMatchTransition):
        matching.release_match(session, paid)
    with pytest.raises(IllegalMatchTransition):
        matching.realise_match(session, cancelled)


def test_a_released_pledge_is_matched_again_on_the_same_row(session, project, backer):
    make_pot(session)
    pledge = make_pledge(session, project, backer, 5_000)
    first = matching.reserve_match(session, pledge)
    matching.release_match(session, pledge)
    pledge.amount_cents = 7_000  # the backer changed the amount: release, then reserve again
    again = matching.reserve_match(session, pledge)
    session.commit()
    assert (again.id, again.amount_cents, again.status) == (first.id, 7_000, "reserved")
    assert [(a.action, a.from_state, a.to_state) for a in audit_rows(session, "match")][-1] == (
        "reserve", "released", "reserved")


def test_a_pledge_without_a_match_is_released_or_realised_without_error(session, project, backer):
    pledge = make_pledge(session, project, backer, 5_000, status="cancelled")
    assert matching.release_match(session, pledge) is None
    assert audit_rows(session, "match") == []


@pytest.mark.parametrize(("status", "target"), list(product(MatchStatus, MatchStatus)))
def test_the_match_table_allows_only_its_moves_and_treats_repeats_as_no_ops(status, target):
    allowed = {("reserved", "realised"), ("reserved", "released"), ("released", "reserved"), ("realised", "reversed")}
    if status == target:
        assert is_match_move(status, target) is False
    elif (status, target) in allowed:
        assert is_match_move(status, target) is True
    else:
        with pytest.raises(IllegalMatchTransition):
            is_match_move(status, target)


@pytest.mark.parametrize(("pot", "admitted"), [
    ({}, True), ({"pot_contest_id": 1}, True), ({"pot_contest_id": 2}, False),
    ({"pot_districts": ["mitte"]}, True), ({"pot_districts": ["waldau"]}, False),
    ({"pot_categories": ["culture", "digital"]}, True), ({"pot_categories": ["health"]}, False),
])
def test_an_empty_rule_admits_everything_and_a_listed_one_only_what_it_lists(pot, admitted):
    rule = {"pot_contest_id": None, "pot_districts": [], "pot_categories": [], **pot}
    assert pot_admits(**rule, contest_id=1, district_slug="mitte", category="digital") is admitted


# --- figures for the campaign page -------------------------------------------------------------------------------


def test_the_summary_lists_each_pot_with_what_it_adds_and_what_it_has_left(session, world, project):
    make_pot(session, budget_cents=12_000, cap_per_pledge_cents=3_000)
    make_pot(session, sponsor_name="Stadtsparkasse", budget_cents=50_000, counts_toward_threshold=True)
    backers = make_backers(session, 6)
    other_project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    reserve(session, other_project, backers[0], 3_000)  # spends 3,000 of the first pot elsewhere
    for b in backers[1:]:
        reserve(session, project, b, 5_000)  # 3,000 + 3,000 + 3,000 from the first; then 5,000 + 5,000
    assert matching.project_match_summary(session, project.id) == [
        MatchLine("Wirtschaftsförderung", 9_000, 0), MatchLine("Stadtsparkasse", 10_000, 40_000)]
    assert matching.matched_toward_threshold(session, project.id) == 10_000
    assert matching.project_matched(session, project.id) == 19_000


def test_released_matches_leave_the_summary_and_realised_ones_stay(session, project):
    make_pot(session, counts_toward_threshold=True)
    kept, dropped = (make_pledge(session, project, b, 5_000) for b in make_backers(session, 2))
    for pledge in (kept, dropped):
        matching.reserve_match(session, pledge)
    project.state, kept.status, dropped.status = "funded", "paid", "failed"
    matching.realise_match(session, kept)
    matching.release_match(session, dropped)
    assert matching.project_match_summary(session, project.id) == [
        MatchLine("Wirtschaftsförderung", 5_000, 995_000)]
    assert matching.matched_toward_threshold(session, project.id) == 5_000


def test_the_summary_runs_one_statement_however_many_pledges_and_pots(session, project):
    for name in ("A", "B", "C"):
        make_pot(session, sponsor_name=name, budget_cents=20_000)
    for b in make_backers(session, 12):
        reserve(session, project, b, 5_000)
    project_id = project.id
    with counted(session) as statements:
        lines = matching.project_match_summary(session, project_id)
        toward = matching.matched_toward_threshold(session, project_id)
    assert [line.matched_cents for line in lines] == [20_000, 20_000, 20_000] and toward == 0
    assert len(statements) == 2


def test_a_project_without_matches_has_an_empty_summary(session, project):
    make_pot(session)
    assert matching.project_match_summary(session, project.id) == []
    assert matching.matched_toward_threshold(session, project.id) == 0


# --- pots (admin) ---------------------------------------------------------------------------------------------------


def pot_data(**changes) -> PotData:
    return replace(PotData(sponsor_name="Wirtschaftsförderung", budget_cents=500_000), **changes)


def test_the_overview_sums_reserved_and_realised_per_pot_in_one_statement(session, world, project):
    first = make_pot(session, budget_cents=20_000)
    second = make_pot(session, sponsor_name="Stadtsparkasse", contest_id=world.contest.id)
    pledges = [make_pledge(session, project, b, 5_000) for b in make_backers(session, 5)]
    for pledge in pledges:
        matching.reserve_match(session, pledge)
    project.state, pledges[0].status, pledges[1].status = "funded", "paid", "cancelled"
    matching.realise_match(session, pledges[0])
    matching.release_match(session, pledges[1])
    session.commit()
    with counted(session) as statements:
        rows = matching.pot_overview(session)
    assert len(statements) == 1
    assert [(r.pot.id, r.contest_name, r.reserved_cents, r.realised_cents, r.remaining_cents) for r in rows] == [
        (second.id, world.contest.name, 5_000, 0, 995_000), (first.id, None, 10_000, 5_000, 5_000)]


def test_creating_a_pot_saves_it_and_writes_an_audit_row(session, world):
    admin = make_user(session, name="Anna Admin")
    data = pot_data(contest_id=world.contest.id, ratio_percent=50, cap_per_backer_cents=10_000,
                    district_slugs=("wesertor", "mitte"), categories=("culture",), counts_toward_threshold=True)
    pot = matching.create_pot(session, data, actor_id=admin.id)
    session.commit()
    assert (pot.budget_cents, pot.ratio_percent, pot.district_slugs, pot.categories) == (
        500_000, 50, ["mitte", "wesertor"], ["culture"])
    [entry] = audit_rows(session, "pot")
    assert (entry.entity_id, entry.action, entry.actor_id, entry.to_state) == (pot.id, "create", admin.id, "active")
    assert "budget_cents: 500000" in entry.reason


def test_editing_a_pot_audits_what_changed_and_an_unchanged_save_writes_nothing(session):
    admin = make_user(session)
    pot = matching.create_pot(session, pot_data(), actor_id=admin.id)
    matching.update_pot(session, pot.id, pot_data(budget_cents=600_000, active=False), actor_id=admin.id)
    matching.update_pot(session, pot.id, pot_data(budget_cents=600_000, active=False), actor_id=admin.id)
    session.commit()
    entries = audit_rows(session, "pot")
    assert [(e.action, e.from_state, e.to_state) for e in entries] == [
        ("create", None, "active"), ("update", "active", "inactive")]
    assert entries[1].reason == "budget_cents: 500000 -> 600000; active: True -> False"


def test_a_budget_cannot_be_lowered_below_what_its_matches_hold(session, project):
    pot = make_pot(session, budget_cents=20_000)
    pledges = [make_pledge(session, project, b, 5_000) for b in make_backers(session, 3)]
    for pledge in pledges:
        matching.reserve_match(session, pledge)
    project.state, pledges[0].status = "funded", "paid"
    matching.realise_match(session, pledges[0])
    with pytest.raises(PotInvalid) as raised:
        matching.update_pot(session, pot.id, pot_data(budget_cents=14_999), actor_id=None)
    assert (raised.value.errors, raised.value.held_cents) == ({"budget_cents": "budget_below_held"}, 15_000)
    assert matching.update_pot(session, pot.id, pot_data(budget_cents=15_000), actor_id=None).budget_cents == 15_000
    assert reserve(session, project, make_user(session), 5_000) is None


@pytest.mark.parametrize(("changes", "errors"), [
    ({"sponsor_name": "  "}, {"sponsor_name": "required"}),
    ({"sponsor_name": "x" * 161}, {"sponsor_name": "too_long"}),
    ({"budget_cents": 99, "cap_per_pledge_cents": 0}, {"budget_cents": "amount_too_low",
                                                       "cap_per_pledge_cents": "amount_too_low"}),
    ({"cap_per_project_cents": 1_000_000_001}, {"cap_per_project_cents": "amount_too_high"}),
    ({"ratio_percent": 0}, {"ratio_percent": "ratio_out_of_range"}),
    ({"ratio_percent": 1_001}, {"ratio_percent": "ratio_out_of_range"}),
    ({"district_slugs": ("atlantis",), "categories": ("sports",)}, {"district_slugs": "unknown",
                                                                    "categories": "unknown"}),
])
def test_pot_input_that_breaks_a_rule_is_refused_field_by_field(session, changes, errors):
    with pytest.raises(PotInvalid) as raised:
        matching.create_pot(session, pot_data(**changes), actor_id=None)
    assert raised.value.errors == errors
    assert session.scalars(select(MatchingPot)).all() == [] and audit_rows(session, "pot") == []


def test_a_pot_for_a_contest_that_does_not_exist_is_refused(session):
    with pytest.raises(PotInvalid) as raised:
        matching.create_pot(session, pot_data(contest_id=4711), actor_id=None)
    assert raised.value.errors == {"contest_id": "unknown"}


def test_the_pure_pot_rules_accept_the_smallest_and_largest_amounts():
    values = {"sponsor_name": "WFG", "budget_cents": 100, "ratio_percent": 1, "cap_per_pledge_cents": 1_000_000_000,
              "cap_per_backer_cents": None, "cap_per_project_cents": None, "district_slugs": ["mitte"],
              "categories": []}
    assert pot_errors(values, held_cents=100, districts={"mitte"}, categories={"digital"}) == {}
