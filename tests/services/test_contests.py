"""Contests: the current contest for new pitches, and windows that must follow one another."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crowdfund.services import contests
from crowdfund.services.contests import ContestData, ContestInvalid
from tests.factories import make_contest, make_open_contest

NOW = datetime(2027, 1, 10, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def data(**changes) -> ContestData:
    base = ContestData(
        name="Crowdfunding-Wettbewerb Kassel 2027", slug="", description="Ideen aus Bürgerhand.",
        submission_start=NOW, submission_end=NOW + 30 * DAY, review_end=NOW + 40 * DAY,
        funding_start=NOW + 40 * DAY, funding_end=NOW + 100 * DAY, jury_end=NOW + 110 * DAY,
        results_at=NOW + 110 * DAY,
    )
    return replace(base, **changes)


def test_a_contest_is_created_with_a_slug_from_its_name(session):
    contest = contests.create_contest(session, data())
    assert (contest.slug, contest.funding_start) == ("crowdfunding-wettbewerb-kassel-2027", NOW + 40 * DAY)


@pytest.mark.parametrize(("changes", "errors"), [
    ({"submission_end": NOW}, {"submission_end": "after:submission_start"}),
    ({"review_end": NOW + 29 * DAY}, {"review_end": "not_before:submission_end"}),
    ({"funding_start": NOW + 39 * DAY}, {"funding_start": "not_before:review_end"}),
    ({"funding_end": NOW + 40 * DAY}, {"funding_end": "after:funding_start"}),
    ({"jury_end": NOW + 99 * DAY}, {"jury_end": "not_before:funding_end"}),
    ({"results_at": NOW + 109 * DAY}, {"results_at": "not_before:jury_end"}),
    ({"name": " ", "slug": "Not A Slug"}, {"name": "required", "slug": "invalid_slug"}),
])
def test_windows_out_of_order_and_bad_names_are_refused_by_field(session, changes, errors):
    with pytest.raises(ContestInvalid) as caught:
        contests.create_contest(session, data(**changes))
    assert caught.value.errors == errors


def test_a_slug_in_use_by_another_contest_is_refused_but_a_contest_keeps_its_own(session):
    first = contests.create_contest(session, data(slug="ks-2027"))
    with pytest.raises(ContestInvalid) as caught:
        contests.create_contest(session, data(slug="ks-2027"))
    assert caught.value.errors == {"slug": "taken"}
    contests.update_contest(session, first, data(slug="ks-2027", name="Umbenannt"))
    assert first.name == "Umbenannt"


def test_the_current_contest_is_the_one_taking_submissions_else_the_newest(session):
    assert contests.current_contest(session, NOW) is None
    older = make_contest(session, now=NOW - 400 * DAY)
    newest = make_contest(session, now=NOW)
    assert contests.current_contest(session, NOW) == newest
    open_now = make_open_contest(session, now=NOW - 200 * DAY)
    assert contests.current_contest(session, NOW - 200 * DAY) == open_now
    assert older in contests.list_contests(session)
