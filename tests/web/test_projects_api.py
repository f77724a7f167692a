"""GET /api/v1/projects and /api/v1/projects/<slug>: fields, types, filters and errors."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from openapi_spec_validator import validate

from tests.factories import (
    make_backers,
    make_campaign,
    make_campaign_world,
    make_pledge,
    make_reward,
    make_update,
)

ITEM_FIELDS = {
    "slug": str, "title": str, "pitch": str, "district": str, "category": str, "state": str,
    "threshold_cents": int, "goal_cents": (int, type(None)), "pledged_cents": int, "matched_cents": int, "backers": int,
    "percent_funded": int, "deadline": str, "url": str,
}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture
def world(session):
    return make_campaign_world(session)


def campaign(session, world, **fields):
    return make_campaign(session, initiator=world.initiator, contest=world.contest,
                         district=fields.pop("district", world.district), **fields)


def slugs(client, query=""):
    response = client.get(f"/api/v1/projects{query}")
    assert response.status_code == 200, response.get_json()
    return [item["slug"] for item in response.get_json()["items"]]


def test_list_items_have_exactly_the_documented_fields_and_types(client, session, world):
    project = campaign(session, world, slug="werkstatt", title="Werkstatt", goal_cents=200_000,
                       threshold_cents=100_000, deadline=datetime(2027, 2, 28, 22, 59, 59, tzinfo=UTC))
    campaign(session, world, slug="no-goal", published_at=datetime(2020, 1, 1, tzinfo=UTC))
    make_pledge(session, project, make_backers(session, 1)[0], 25_050)
    body = client.get("/api/v1/projects").get_json()
    assert set(body) == {"items", "total", "page", "page_size"} and body["total"] == 2
    item, other = body["items"]
    assert set(item) == set(ITEM_FIELDS)
    for field, kind in ITEM_FIELDS.items():
        assert isinstance(item[field], kind), field
    assert item == {
        "slug": "werkstatt", "title": "Werkstatt", "pitch": "A pitch for Kassel.", "district": "mitte",
        "category": "digital", "state": "live", "threshold_cents": 100_000, "goal_cents": 200_000,
        "pledged_cents": 25_050, "matched_cents": 0, "backers": 1, "percent_funded": 25,
        "deadline": "2027-02-28T23:59:59+01:00", "url": "http://localhost/projects/werkstatt",
    }
    assert other["goal_cents"] is None and other["pledged_cents"] == 0 and other["backers"] == 0


def test_deadlines_carry_the_berlin_offset_in_winter_and_in_summer(client, session, world):
    campaign(session, world, slug="summer", deadline=datetime(2027, 6, 30, 21, 59, 59, tzinfo=UTC))
    deadline = client.get("/api/v1/projects").get_json()["items"][0]["deadline"]
    assert ISO_WITH_OFFSET.match(deadline) and deadline == "2027-06-30T23:59:59+02:00"
    assert datetime.fromisoformat(deadline) == datetime(2027, 6, 30, 21, 59, 59, tzinfo=UTC)


def test_filters_select_by_district_category_state_and_search(client, session, world):
    campaign(session, world, slug="a", title="Fahrradstation", category="mobility")
    campaign(session, world, slug="b", pitch="Mehr Fahrrad im Wesertor", district=world.other_district)
    campaign(session, world, slug="c", state="funded", category="mobility")
    campaign(session, world, slug="d", state="draft", category="mobility")
    assert sorted(slugs(client, "?district=wesertor")) == ["b"]
    assert sorted(slugs(client, "?category=mobility")) == ["a", "c"]
    assert sorted(slugs(client, "?category=mobility&state=funded")) == ["c"]
    assert sorted(slugs(client, "?q=FAHRRAD")) == ["a", "b"]
    assert sorted(slugs(client, "?state=&district=")) == ["a", "b", "c"]


def test_pages_are_cut_by_page_and_page_size(client, session, world):
    now = datetime.now(UTC)
    for i in range(5):
        campaign(session, world, slug=f"p{i}", published_at=now - timedelta(hours=i))
    body = client.get("/api/v1/projects?page=2&page_size=2").get_json()
    assert [i["slug"] for i in body["items"]] == ["p2", "p3"]
    assert (body["total"], body["page"], body["page_size"]) == (5, 2, 2)
    assert client.get("/api/v1/projects?page=9&page_size=2").get_json() | {"items": None} == {
        "items": None, "total": 5, "page": 9, "page_size": 2}


@pytest.mark.parametrize(("query", "field"), [
    ("state=draft", "state"), ("state=approved", "state"), ("category=weapons", "category"),
    ("district=atlantis", "district"), ("sort=random", "sort"), ("page=0", "page"), ("page=x", "page"),
    ("page_size=1000", "page_size"),
])
def test_an_unknown_filter_value_answers_422_naming_the_field(client, session, world, query, field):
    campaign(session, world, state="draft")
    response = client.get(f"/api/v1/projects?{query}")
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == 422
    assert list(body["errors"]) == [field]


def test_the_detail_adds_description_rewards_and_updates(client, session, world):
    project = campaign(session, world, slug="garten", description="**Beete** <script>x()</script>")
    card = make_reward(session, project, title="Card", min_amount_cents=500)
    kit = make_reward(session, project, title="Kit", min_amount_cents=2_500, quantity_total=20, quantity_claimed=17)
    make_update(session, project, title="Old", body="*old*", created_at=datetime(2027, 1, 5, 9, tzinfo=UTC))
    make_update(session, project, title="New", body="new", created_at=datetime(2027, 7, 5, 9, tzinfo=UTC))
    body = client.get("/api/v1/projects/garten").get_json()
    assert set(body) == set(ITEM_FIELDS) | {"description_html", "rewards", "updates"}
    assert "<strong>Beete</strong>" in body["description_html"] and "<script" not in body["description_html"]
    assert body["rewards"] == [
        {"id": card.id, "title": "Card", "min_amount_cents": 500, "quantity_total": None, "quantity_left": None},
        {"id": kit.id, "title": "Kit", "min_amount_cents": 2_500, "quantity_total": 20, "quantity_left": 3},
    ]
    assert body["updates"] == [
        {"title": "New", "body_html": "<p>new</p>\n", "created_at": "2027-07-05T11:00:00+02:00"},
        {"title": "Old", "body_html": "<p><em>old</em></p>\n", "created_at": "2027-01-05T10:00:00+01:00"},
    ]


def test_an_unknown_or_private_slug_is_a_json_404(client, session, world):
    campaign(session, world, slug="hidden", state="submitted")
    for slug in ("nothing-here", "hidden"):
        response = client.get(f"/api/v1/projects/{slug}")
        assert response.status_code == 404 and response.get_json()["code"] == 404


def test_the_openapi_document_describes_both_paths_and_stays_valid(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(json.loads(json.dumps(spec)))
    assert {"/api/v1/projects", "/api/v1/projects/{slug}"} <= set(spec["paths"])
    params = {p["name"]: p for p in spec["paths"]["/api/v1/projects"]["get"]["parameters"]}
    assert {"district", "category", "state", "q", "page", "sort"} <= set(params)
    assert params["state"]["schema"]["enum"] == ["ended", "funded", "live", "not_funded"]
    assert "422" in spec["paths"]["/api/v1/projects"]["get"]["responses"]
    assert "404" in spec["paths"]["/api/v1/projects/{slug}"]["get"]["responses"]
