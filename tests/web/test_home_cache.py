"""The home page is cached for anonymous visitors like the campaign pages (load test: it was the most
expensive anonymous page), never for logged-in users."""

from tests.factories import PASSWORD, make_campaign, make_campaign_world, make_user
from tests.web.test_page_cache import statements_during


def test_an_anonymous_repeat_of_the_home_page_needs_no_query_and_a_logged_in_user_gets_a_fresh_one(
        app, session, auth, client):
    app.config["PUBLIC_CACHE_SECONDS"] = 60
    world = make_campaign_world(session)
    make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    anonymous = app.test_client()
    first, queries = statements_during(app, lambda: anonymous.get("/"))
    assert first.status_code == 200 and queries > 0
    again, queries = statements_during(app, lambda: anonymous.get("/"))
    assert again.status_code == 200 and queries == 0

    user = make_user(session)
    auth.login(user.email, PASSWORD)
    fresh, queries = statements_during(app, lambda: client.get("/"))
    assert fresh.status_code == 200 and queries > 0
