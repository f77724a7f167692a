"""The admins' matching pots (list, create, edit) and the pots' lines on the public campaign page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.matching import MatchingPot
from crowdfund.services import matching
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, make_backers, make_campaign, make_campaign_world, make_pledge, make_user
from tests.services.test_matching import make_pot
from tests.web.test_query_counts import counted

FORM = {"sponsor_name": "Wirtschaftsförderung Region Kassel", "contest": "0", "budget_eur": "12000,50",
        "ratio_percent": "100", "cap_per_pledge_eur": "", "cap_per_backer_eur": "", "cap_per_project_eur": "",
        "active": "y"}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin(client, session):
    make_user(session, Role.ADMIN, email="anna@example.org")
    AuthActions(client).login("anna@example.org", PASSWORD)
    return client


@pytest.fixture
def world(session):
    return make_campaign_world(session)


def post_pot(client, path="/admin/pots/new", **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'<ul class="field__errors" id="{field}-error">(.*?)</ul>', html, re.S)
    return re.findall(r"</span>([^<]+)</li>", block.group(1)) if block else []


@pytest.mark.parametrize("path", ["/admin/pots", "/admin/pots/new", "/admin/pots/{id}/edit"])
def test_the_pot_pages_are_for_admins_only(client, session, path):
    path = path.format(id=make_pot(session).id)
    assert client.get(path).status_code == 302  # anonymous: to the login page
    make_user(session, Role.FINANCE, Role.INITIATOR, email="fiona@example.org")
    AuthActions(client).login("fiona@example.org", PASSWORD)
    assert client.get(path).status_code == 403
    response = client.post(path, data={**FORM, "csrf_token": csrf_token(client, "/")})
    assert response.status_code in (403, 405)
    assert session.scalars(select(MatchingPot.sponsor_name)).all() == ["Wirtschaftsförderung"]


def test_an_admin_creates_a_pot_with_euros_as_exact_cents_and_an_audit_row(admin, session, world):
    response = post_pot(admin, contest=str(world.contest.id), budget_eur="12000,50", ratio_percent="50",
                        cap_per_pledge_eur="25", cap_per_backer_eur="100.10", districts=["mitte", "wesertor"],
                        categories=["culture"], counts_toward_threshold="y")
    assert response.status_code == 302 and response.location.endswith("/admin/pots")
    pot = session.scalars(select(MatchingPot)).one()
    assert (pot.contest_id, pot.budget_cents, pot.ratio_percent, pot.cap_per_pledge_cents,
            pot.cap_per_backer_cents, pot.cap_per_project_cents) == (world.contest.id, 1_200_050, 50, 2_500,
                                                                    10_010, None)
    assert (pot.district_slugs, pot.categories, pot.counts_toward_threshold, pot.active) == (
        ["mitte", "wesertor"], ["culture"], True, True)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "pot")).one()
    assert (entry.entity_id, entry.action) == (pot.id, "create")


def test_the_list_shows_budget_reserved_realised_and_remaining_of_each_pot(admin, session, world):
    pot = make_pot(session, budget_cents=100_000, contest_id=world.contest.id)
    make_pot(session, sponsor_name="Stadtsparkasse", active=False)
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    pledges = [make_pledge(session, project, b, 20_000) for b in make_backers(session, 3)]
    for pledge in pledges:
        matching.reserve_match(session, pledge)
    project.state, pledges[0].status = "funded", "paid"
    matching.realise_match(session, pledges[0])
    session.commit()
    html = admin.get("/admin/pots").get_data(as_text=True)
    row = re.search(rf'href="/admin/pots/{pot.id}/edit">Wirtschaftsförderung</a></th>(.*?)</tr>', html, re.S)
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert cells == [world.contest.name, "100 %", "€1,000.00", "€400.00", "€200.00", "€400.00", "Active"]
    assert "Stadtsparkasse" in html and "Inactive" in html


@pytest.mark.parametrize(("changes", "field", "error"), [
    ({"sponsor_name": ""}, "sponsor_name", "This field is required."),
    ({"budget_eur": "zwölf"}, "budget_eur", ""),  # the euro parser's own words
    ({"budget_eur": "0,50"}, "budget_eur", "The amount must be at least 1 euro."),
    ({"ratio_percent": "0"}, "ratio_percent", "Number must be between 1 and 1000."),
    ({"cap_per_project_eur": "10,0015"}, "cap_per_project_eur", ""),
    ({"districts": ["atlantis"]}, "districts", "not a valid choice"),
    ({"contest": "4711"}, "contest", "Not a valid choice."),
])
def test_invalid_input_is_refused_with_a_field_error_and_the_typed_values_stay(admin, session, changes, field,
                                                                             error):
    response = post_pot(admin, **{"sponsor_name": "Kasseler Sparkasse", **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(error in text for text in field_errors(html, field)), field_errors(html, field)
    if changes.get("sponsor_name", "x"):
        assert 'value="Kasseler Sparkasse"' in html
    assert session.scalars(select(MatchingPot)).all() == []


def test_editing_shows_the_saved_pot_and_saves_changes_with_an_audit_row(admin, session):
    pot = make_pot(session, budget_cents=250_050, cap_per_backer_cents=5_000, district_slugs=["waldau"])
    path = f"/admin/pots/{pot.id}/edit"
    html = admin.get(path).get_data(as_text=True)
    assert re.search(r'name="budget_eur"[^>]* value="2500.50"', html)
    assert re.search(r'name="cap_per_backer_eur"[^>]* value="50"', html)
    assert re.search(r'<option selected value="waldau">Waldau</option>', html)
    response = post_pot(admin, path, sponsor_name="Wirtschaftsförderung", budget_eur="3000", active=None)
    assert response.status_code == 302
    session.expire_all()
    pot = session.get(MatchingPot, pot.id)
    assert (pot.budget_cents, pot.active, pot.cap_per_backer_cents, pot.district_slugs) == (300_000, False, None, [])
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert (entry.entity_type, entry.from_state, entry.to_state) == ("pot", "active", "inactive")
    assert "budget_cents: 250050 -> 300000" in entry.reason


def test_a_budget_below_what_matches_already_hold_is_refused_on_the_budget_field(admin, session, world):
    pot = make_pot(session, budget_cents=100_000)
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    for backer in make_backers(session, 3):
        matching.reserve_match(session, make_pledge(session, project, backer, 20_000))
    session.commit()
    path = f"/admin/pots/{pot.id}/edit"
    response = post_pot(admin, path, sponsor_name="Wirtschaftsförderung", budget_eur="599,99")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "budget_eur") == [
        "The budget cannot be lower than the €600.00 that matches already hold."]
    session.expire_all()
    assert session.get(MatchingPot, pot.id).budget_cents == 100_000
    assert post_pot(admin, path, sponsor_name="Wirtschaftsförderung", budget_eur="600").status_code == 302


def test_an_unknown_pot_is_not_found(admin):
    assert admin.get("/admin/pots/4711/edit").status_code == 404


# --- the campaign page -------------------------------------------------------------------------------------------


def test_the_campaign_page_shows_what_each_pot_adds_and_has_left(client, session, world):
    make_pot(session, budget_cents=500_000, cap_per_pledge_cents=60_000)
    make_pot(session, sponsor_name="Stadtsparkasse", budget_cents=10_000, contest_id=world.contest.id)
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    for backer in make_backers(session, 2):
        matching.reserve_match(session, make_pledge(session, project, backer, 100_000))
    session.commit()
    html = client.get(f"/projects/{project.slug}").get_data(as_text=True)
    assert "+ €1,200.00 from the Wirtschaftsförderung pot" in html
    assert "€3,800.00 left in this pot" in html
    assert "Stadtsparkasse" not in html


def test_the_campaign_page_runs_as_many_statements_for_many_matches_and_pots_as_for_one(app, client, session, world):
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    path = f"/projects/{project.slug}"
    backers = make_backers(session, 40)
    make_pot(session, budget_cents=10_000)
    matching.reserve_match(session, make_pledge(session, project, backers[0], 5_000))
    session.commit()
    client.get(path)
    with counted(app.extensions["db_engine"]) as few:
        client.get(path)
    for name in ("A", "B", "C"):
        make_pot(session, sponsor_name=name, budget_cents=150_000)
    for backer in backers[1:]:
        matching.reserve_match(session, make_pledge(session, project, backer, 10_000))
    session.commit()
    with counted(app.extensions["db_engine"]) as many:
        html = client.get(path).get_data(as_text=True)
    assert "from the C pot" in html
    assert len(many) == len(few)
