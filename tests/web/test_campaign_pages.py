"""The public campaign pages: list, campaign, widget and districts."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify
from crowdfund.models.contests import District
from tests.factories import (
    make_backers,
    make_campaign,
    make_campaign_world,
    make_pledge,
    make_reward,
    make_team_member,
    make_update,
)

EN = {"Accept-Language": "en"}
PRIVATE_STATES = ["draft", "submitted", "changes_requested", "approved", "rejected", "withdrawn"]


@pytest.fixture
def world(session):
    return make_campaign_world(session)


def campaign(session, world, **fields):
    return make_campaign(session, initiator=world.initiator, contest=world.contest,
                         district=fields.pop("district", world.district), **fields)


def titles(client, path):
    response = client.get(path, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r'class="card__title"[^>]*><a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True))


def ago(**delta):
    return datetime.now(UTC) - timedelta(**delta)


def test_the_list_shows_live_and_past_campaigns_newest_first_and_never_a_private_pitch(client, session, world):
    campaign(session, world, title="Old funded", state="funded", published_at=ago(days=30), deadline=ago(days=2))
    campaign(session, world, title="Live one", state="live", published_at=ago(days=1))
    campaign(session, world, title="Ended one", state="ended", published_at=ago(days=20), deadline=ago(hours=1))
    campaign(session, world, title="Not funded", state="not_funded", published_at=ago(days=40))
    for state in PRIVATE_STATES:
        campaign(session, world, title=f"Secret {state}", state=state, published_at=None)
    assert titles(client, "/projects") == ["Live one", "Ended one", "Old funded", "Not funded"]
    assert "Secret" not in client.get("/projects?q=secret").get_data(as_text=True)


def test_search_matches_title_or_pitch_ignoring_case_and_treats_wildcards_literally(client, session, world):
    campaign(session, world, title="Fahrradstation", pitch="Werkzeug für alle.")
    campaign(session, world, title="Garten", pitch="Wir reparieren FAHRRÄDER und Fahrrad-Anhänger.")
    campaign(session, world, title="Bibliothek", pitch="Bücher für 100% der Kinder.")
    assert sorted(titles(client, "/projects?q=fahrrad")) == ["Fahrradstation", "Garten"]
    assert titles(client, "/projects?q=100%25") == ["Bibliothek"]
    assert titles(client, "/projects?q=%25") == ["Bibliothek"]
    assert titles(client, "/projects?q=_") == []


def test_filters_by_district_category_and_state_combine(client, session, world):
    campaign(session, world, title="Mitte digital live", category="digital")
    campaign(session, world, title="Mitte culture live", category="culture")
    campaign(session, world, title="Wesertor digital live", category="digital", district=world.other_district)
    campaign(session, world, title="Mitte digital funded", category="digital", state="funded")
    assert sorted(titles(client, "/projects?district=mitte&category=digital")) == [
        "Mitte digital funded", "Mitte digital live"]
    assert titles(client, "/projects?district=mitte&category=digital&state=live") == ["Mitte digital live"]
    assert titles(client, "/projects?district=wesertor") == ["Wesertor digital live"]
    assert titles(client, "/projects?district=&category=&state=&q=") != []  # empty selects mean "all"


def test_sorting_by_ending_soon_backers_and_percent_funded(client, session, world):
    soon = campaign(session, world, title="Soon", deadline=ago(days=-2), threshold_cents=10_000)
    later = campaign(session, world, title="Later", deadline=ago(days=-20), threshold_cents=100_000)
    campaign(session, world, title="Over", state="funded", deadline=ago(days=5), threshold_cents=50_000)
    backers = make_backers(session, 3)
    make_pledge(session, later, backers[0], 30_000)
    make_pledge(session, later, backers[1], 30_000)
    make_pledge(session, soon, backers[2], 8_000)  # 80 % of its threshold; Later has 60 %
    assert titles(client, "/projects?sort=ending_soon") == ["Soon", "Later", "Over"]
    assert titles(client, "/projects?sort=most_backers") == ["Later", "Soon", "Over"]
    assert titles(client, "/projects?sort=percent_funded") == ["Soon", "Later", "Over"]


def test_pages_hold_twelve_campaigns_and_links_keep_the_filters(client, session, world):
    for i in range(14):
        campaign(session, world, title=f"Idea {i:02d}", category="culture", published_at=ago(hours=i))
    first = client.get("/projects?category=culture", headers=EN).get_data(as_text=True)
    assert titles(client, "/projects?category=culture") == [f"Idea {i:02d}" for i in range(12)]
    assert '14 projects found' in first
    assert re.search(r'href="/projects\?page=1&amp;category=culture"[^>]*aria-current="page"', first) or \
        re.search(r'href="/projects\?category=culture&amp;page=1"[^>]*aria-current="page"', first)
    assert 'rel="next"' in first and "page=2" in first
    assert titles(client, "/projects?category=culture&page=2") == ["Idea 12", "Idea 13"]
    assert titles(client, "/projects?category=culture&page=3") == []


@pytest.mark.parametrize(("query", "label"), [
    ("district=atlantis", "District"),
    ("category=weapons", "Category"),
    ("state=draft", "Status"),
    ("state=approved", "Status"),
    ("sort=random", "Sort by"),
    ("page=0", "Page"),
    ("page=abc", "Page"),
    ("q=" + "x" * 101, "Search in titles and pitches"),
])
def test_an_invalid_filter_value_answers_400_naming_the_field(client, session, world, query, label):
    campaign(session, world, title="Visible")
    campaign(session, world, title="Draft", state="draft")
    response = client.get(f"/projects?{query}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This filter cannot be applied" in html and f"{label}: " in html
    assert "Draft" not in html and "Visible" not in html


@pytest.mark.parametrize("state", PRIVATE_STATES)
def test_a_private_pitch_has_no_public_page_widget_or_api_entry(client, session, world, state):
    project = campaign(session, world, state=state)
    for path in (f"/projects/{project.slug}", f"/projects/{project.slug}/widget",
                 f"/api/v1/projects/{project.slug}"):
        assert client.get(path).status_code == 404, path


def test_the_campaign_page_sums_only_counting_pledges_and_counts_each_backer_once(client, session, world):
    project = campaign(session, world, threshold_cents=10_000)
    anna, ben, cem, dora = make_backers(session, 4)
    make_pledge(session, project, anna, 1_000, status="active")
    make_pledge(session, project, anna, 500, status="paid")
    make_pledge(session, project, ben, 2_000, status="paid")
    make_pledge(session, project, cem, 9_900, status="cancelled")
    make_pledge(session, project, dora, 7_700, status="pending_setup")
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    figures = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>([^<]+)</dd>", html))
    assert figures["Pledged"] == "€35.00" and figures["Backers"] == "2"
    assert '<progress max="10000" value="3500" aria-labelledby="funding-threshold">35 %</progress>' in html
    assert "€35.00 of €100.00 threshold" in html
    body = client.get(f"/api/v1/projects/{project.slug}").get_json()
    assert (body["pledged_cents"], body["backers"], body["percent_funded"]) == (3_500, 2, 35)


def test_the_goal_gets_its_own_bar_and_the_threshold_bar_stops_when_full(client, session, world):
    project = campaign(session, world, threshold_cents=10_000, goal_cents=40_000)
    make_pledge(session, project, make_backers(session, 1)[0], 20_000)
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    assert 'max="10000" value="10000"' in html and "200 %" in html
    assert 'max="40000" value="20000"' in html and "€200.00 of €400.00 goal" in html and "50 %" in html


def test_rewards_show_what_is_left(client, session, world):
    project = campaign(session, world)
    make_reward(session, project, title="Card", min_amount_cents=500)
    make_reward(session, project, title="Kit", min_amount_cents=2_500, quantity_total=20, quantity_claimed=17)
    make_reward(session, project, title="Plaque", min_amount_cents=10_000, quantity_total=5, quantity_claimed=5)
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    stock = re.findall(r'class="reward__stock">([^<]+)<', html)
    assert stock == ["Unlimited", "3 of 20 left", "Sold out"]
    assert "From €25.00" in html


def test_time_left_is_counted_in_days_and_hours(client, session, world):
    project = campaign(session, world, deadline=datetime.now(UTC) + timedelta(days=3, hours=5, minutes=30))
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    assert "3 days and 5 hours left" in html


@pytest.mark.parametrize(("state", "days", "text"), [
    ("live", -1, "Funding has ended; the result is being settled."),
    ("ended", -1, "Funding has ended; the result is being settled."),
    ("funded", -3, "Funded: the threshold was reached."),
    ("not_funded", -3, "Not funded: the threshold was not reached, so nobody is charged."),
])
def test_after_the_deadline_the_page_says_how_it_ended(client, session, world, state, days, text):
    project = campaign(session, world, state=state, deadline=ago(days=-days))
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    assert text in html and "left" not in re.sub(r"<[^>]+>", "", html).split("Rewards")[0]


def test_the_deadline_is_shown_in_berlin_time(client, session, world):
    winter = campaign(session, world, deadline=datetime(2027, 2, 28, 22, 59, 59, tzinfo=UTC))
    html = client.get(f"/projects/{winter.slug}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Sonntag, 28. Februar 2027, 23:59" in html
    assert 'datetime="2027-02-28T23:59:59+01:00"' in html


def test_description_and_updates_are_sanitised_markdown_newest_update_first(client, session, world):
    project = campaign(session, world, description="**Plan** <script>alert(1)</script> [x](javascript:alert(1))")
    make_update(session, project, title="First news", body="Old *news*", created_at=ago(days=5))
    make_update(session, project, title="Second news", body="<img src=x onerror=alert(1)> New", created_at=ago(days=1))
    make_team_member(session, project, name="Lea Brandt", role="Coordination")
    html = client.get(f"/projects/{project.slug}", headers=EN).get_data(as_text=True)
    assert "<strong>Plan</strong>" in html and "<em>news</em>" in html
    assert "<script>alert" not in html and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in html
    assert html.index("Second news") < html.index("First news")
    assert "Lea Brandt" in html and "Coordination" in html


def test_the_cover_image_is_shown_when_there_is_one(client, session, world):
    with_cover = campaign(session, world, cover_image="abcdef1234.webp")
    without = campaign(session, world)
    assert f'src="/projects/{with_cover.slug}/cover' in client.get(f"/projects/{with_cover.slug}").get_data(True)
    assert "campaign__cover" not in client.get(f"/projects/{without.slug}").get_data(as_text=True)


def test_the_widget_may_be_framed_anywhere_but_the_campaign_page_nowhere(client, session, world):
    project = campaign(session, world, title="Framed", threshold_cents=10_000)
    make_pledge(session, project, make_backers(session, 1)[0], 2_500)
    widget = client.get(f"/projects/{project.slug}/widget", headers=EN)
    page = client.get(f"/projects/{project.slug}")
    assert "frame-ancestors *" in widget.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in widget.headers and "Set-Cookie" not in widget.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    html = widget.get_data(as_text=True)
    assert "<!doctype html>" in html and "site-header" not in html and "/static/css/app.css" in html
    assert f'href="http://localhost/projects/{project.slug}" target="_blank" rel="noopener"' in html
    assert 'max="10000" value="2500"' in html and "€25.00" in html and "days and" in html


def test_the_districts_index_lists_all_23_with_their_public_project_counts(client, session, world):
    session.add_all([District(name=name, slug=slugify(name)) for name in KASSEL_DISTRICTS
                     if name not in ("Mitte", "Wesertor")])
    session.commit()
    campaign(session, world)
    campaign(session, world, state="funded")
    campaign(session, world, state="draft")
    html = client.get("/districts", headers=EN).get_data(as_text=True)
    rows = re.findall(r'<a href="/districts/([^"]+)">[^<]+</a>\s*<span[^>]*>(\d+) projects?</span>', html)
    assert len(rows) == 23
    counts = dict(rows)
    assert counts["mitte"] == "2" and counts["wesertor"] == "0"


def test_a_district_page_lists_only_its_public_projects(client, session, world):
    campaign(session, world, title="In Mitte")
    campaign(session, world, title="Draft in Mitte", state="draft")
    campaign(session, world, title="In Wesertor", district=world.other_district)
    assert titles(client, "/districts/mitte") == ["In Mitte"]
    assert client.get("/districts/atlantis").status_code == 404


def test_the_home_page_links_to_the_projects_and_the_districts(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/projects"' in html and 'href="/districts"' in html
