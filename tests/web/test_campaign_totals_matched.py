"""Campaign totals count the money matched from pots that count toward the threshold: on the campaign
page, the list cards, the widget, the API and the initiator's project page; pledged and matched are shown
apart where matched money is shown."""

from __future__ import annotations

import re

import pytest

from crowdfund.models.matching import Match, MatchingPot
from crowdfund.services import campaigns
from crowdfund.services.campaigns import CampaignFilter, Sort
from crowdfund.services.matching import matched_toward_threshold
from tests.factories import PASSWORD, make_backers, make_campaign, make_campaign_world, make_pledge

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(session):
    return make_campaign_world(session)


def pot(session, *, counts: bool) -> MatchingPot:
    row = MatchingPot(sponsor_name="Wirtschaftsförderung" if counts else "Stadtwerke", budget_cents=1_000_000,
                      ratio_percent=100, district_slugs=[], categories=[], counts_toward_threshold=counts)
    session.add(row)
    session.commit()
    return row


def match(session, pot_row, pledge, cents: int, status: str = "reserved") -> None:
    session.add(Match(pot_id=pot_row.id, pledge_id=pledge.id, project_id=pledge.project_id,
                      backer_id=pledge.backer_id, amount_cents=cents, status=status))
    session.commit()


def matched_campaign(session, world, **fields):
    """Pledged 40 EUR (active 30 + paid 10); matched toward the threshold 20 EUR (reserved 15 + realised 5);
    left out: 5 EUR from a pot that does not count, 40 EUR released with a cancelled pledge."""
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                            **{"threshold_cents": 10_000, **fields})
    anna, ben, cem, dora = make_backers(session, 4)
    counting, other = pot(session, counts=True), pot(session, counts=False)
    match(session, counting, make_pledge(session, project, anna, 3_000), 1_500)
    match(session, counting, make_pledge(session, project, ben, 1_000, status="paid"), 500, "realised")
    match(session, other, make_pledge(session, project, cem, 500, status="paid"), 500)
    match(session, counting, make_pledge(session, project, dora, 4_000, status="cancelled"), 4_000, "released")
    return project


def test_get_campaign_adds_matches_from_counting_pots_to_the_progress(session, world):
    project = matched_campaign(session, world)
    c = campaigns.get_campaign(session, project.slug)
    assert (c.pledged_cents, c.matched_cents, c.backers) == (4_500, 2_000, 3)
    assert (c.counted_cents, c.percent_funded, c.threshold_reached) == (6_500, 65, False)
    assert c.matched_cents == matched_toward_threshold(session, project.id)  # the figure settlement uses


def test_matches_can_reach_the_threshold(session, world):
    project = matched_campaign(session, world, threshold_cents=6_500)
    c = campaigns.get_campaign(session, project.slug)
    assert c.threshold_reached and c.percent_funded == 100


@pytest.mark.parametrize("sort", list(Sort))
def test_the_list_carries_the_matches_whatever_the_order(session, world, sort):
    project = matched_campaign(session, world)
    page = campaigns.list_campaigns(session, CampaignFilter(sort=sort))
    [c] = [c for c in page.items if c.project.id == project.id]
    assert (c.pledged_cents, c.matched_cents, c.percent_funded) == (4_500, 2_000, 65)


def test_sorting_by_percent_funded_counts_the_matches(session, world):
    matched = matched_campaign(session, world)  # 65 %
    plain = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                          threshold_cents=10_000)
    make_pledge(session, plain, make_backers(session, 1)[0], 6_000)  # 60 %, more pledged than `matched`'s 45
    page = campaigns.list_campaigns(session, CampaignFilter(sort=Sort.PERCENT_FUNDED))
    assert [c.project.id for c in page.items] == [matched.id, plain.id]


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>([^<]+)</dd>", html))


def test_the_campaign_page_and_widget_show_pledged_and_matched_apart_and_progress_with_both(client, session, world):
    project = matched_campaign(session, world)
    for path, bar in ((f"/projects/{project.slug}", "funding"), (f"/projects/{project.slug}/widget", "widget")):
        html = client.get(path, headers=EN).get_data(as_text=True)
        shown = figures(html)
        assert (shown["Pledged"], shown["Matched toward the threshold"], shown["Backers"]) == ("€45.00", "€20.00", "3")
        assert f'max="10000" value="6500" aria-labelledby="{bar}-threshold">65 %</progress>' in html, path
        assert "€65.00 of €100.00 threshold" in html and "including €20.00 from matching pots" in html


def test_a_campaign_without_matches_shows_no_matched_figure(client, session, world):
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    make_pledge(session, project, make_backers(session, 1)[0], 2_500)
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    assert "Matched toward the threshold" not in html and "from matching pots" not in html


def test_the_list_cards_and_the_api_count_the_matches(client, session, world):
    project = matched_campaign(session, world)
    html = client.get("/projects", headers=EN).get_data(as_text=True)
    assert "€65.00 of €100.00 threshold" in html and "including €20.00 from matching pots" in html
    body = client.get(f"/api/v1/projects/{project.slug}").get_json()
    assert (body["pledged_cents"], body["matched_cents"], body["percent_funded"]) == (4_500, 2_000, 65)
    [item] = client.get("/api/v1/projects?sort=percent_funded").get_json()["items"]
    assert (item["pledged_cents"], item["matched_cents"], item["percent_funded"]) == (4_500, 2_000, 65)


def test_the_initiators_project_page_shows_the_funding_with_the_matches(client, auth, session, world):
    project = matched_campaign(session, world)
    auth.login(world.initiator.email, PASSWORD)
    html = client.get(f"/my/projects/{project.id}", headers=EN).get_data(as_text=True)
    assert "€45.00" in html and "€20.00" in html and "€65.00 of €100.00 threshold" in html
    assert 'max="10000" value="6500" aria-labelledby="my-funding-threshold"' in html
