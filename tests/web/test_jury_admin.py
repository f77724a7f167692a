"""The admins' jury pages: set-up forms, phase changes, the results page, the decision, and publishing."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.jury import JuryConflict, JuryCriterion, JuryMember
from crowdfund.services import jury
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD
from tests.services.test_jury_world import make_jury_world, make_person, score

ONE_CRITERION = (("Overall", "1", 0, 10),)


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def as_admin(client, world):
    assert AuthActions(client).login(world.admin.email, PASSWORD).status_code == 302
    return client


def text(response):
    return html.unescape(response.get_data(as_text=True))


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def test_only_admins_open_the_jury_pages(client, session):
    world = make_jury_world(session)
    AuthActions(client).login(world.jurors[0].email, PASSWORD)
    for path in ("/admin/jury", f"/admin/jury/{world.contest.slug}", f"/admin/jury/{world.contest.slug}/results"):
        assert client.get(path).status_code == 403


def test_an_admin_sets_up_criteria_panel_conflicts_and_assignment(client, session):
    world = make_jury_world(session, open_scoring=False, criteria=())
    as_admin(client, world)
    page = f"/admin/jury/{world.contest.slug}"
    assert world.contest.name in client.get("/admin/jury").get_data(as_text=True)
    response = post(client, f"{page}/criteria", page, name="Originality", weight="1,5", scale_min="1",
                    scale_max="10", anchors="1: derivative\n10: never seen before")
    assert response.status_code == 302
    criterion = session.scalars(select(JuryCriterion)).one()
    assert (criterion.weight, criterion.anchors) == ("1.5", {"1": "derivative", "10": "never seen before"})
    bad = post(client, f"{page}/criteria", page, name="Broken", weight="0", scale_min="5", scale_max="5")
    assert bad.status_code == 422 and "positive number" in bad.get_data(as_text=True)
    newcomer = make_person(session, Role.JUROR, name="Nora Newcomer")
    assert post(client, f"{page}/panel", page, user=newcomer.id).status_code == 302
    assert newcomer.id in set(session.scalars(select(JuryMember.user_id)))
    assert post(client, f"{page}/conflicts", page, juror=newcomer.id, project=world.entries[0].id,
                kind="institutional", note="Same university").status_code == 302
    assert session.scalars(select(JuryConflict)).one().declared_by_id == world.admin.id
    assert post(client, f"{page}/assignment", page).status_code == 302
    session.expire_all()
    assert world.entries[0].id not in jury.assigned_ids(session, world.contest, newcomer)
    html = client.get(page).get_data(as_text=True)
    assert "Nora Newcomer" in html and "Same university" in html and "0 of 2 done" in html


def test_settings_are_validated_and_saved(client, session):
    world = make_jury_world(session)
    as_admin(client, world)
    page = f"/admin/jury/{world.contest.slug}"
    fields = {"ranking_rule": "weighted", "jury_weight": "0.6", "preselect_top_n": "5", "prize_pot": "12000",
              "prize_places": "3", "prize_mode": "fixed", "prize_fixed": "6000; 4000; 1000",
              "crowd_min_pledge": "10", "jurors_per_entry": "", "disagreement_points": "20"}
    wrong = post(client, f"{page}/settings", page, **fields)
    assert wrong.status_code == 422 and "add up to the prize pot exactly" in wrong.get_data(as_text=True)
    assert post(client, f"{page}/settings", page, **{**fields, "prize_fixed": "6000; 4000; 2000"}).status_code == 302
    config = jury.get_config(session, world.contest)
    session.refresh(config)
    assert (config.jury_weight, config.prize_fixed_cents, config.crowd_min_pledge_cents) == (
        "0.6", [600_000, 400_000, 200_000], 1_000)
    share = post(client, f"{page}/settings", page, **{**fields, "jury_weight": "1.5"})
    assert share.status_code == 422 and "from 0 to 1" in share.get_data(as_text=True)


def test_a_set_up_change_in_the_wrong_phase_is_refused_with_a_message(client, session):
    world = make_jury_world(session)
    as_admin(client, world)
    page = f"/admin/jury/{world.contest.slug}"
    response = post(client, f"{page}/criteria", page, name="Late", weight="1", scale_min="1", scale_max="5")
    assert response.status_code == 303
    assert "not possible in the jury's current phase" in text(client.get(page))


def test_the_results_page_shows_scores_crowd_spread_and_disagreement(client, session):
    world = make_jury_world(session, criteria=ONE_CRITERION, conflicts=((2, 0),))
    for juror, values in zip(world.jurors, ((7, 8, 5), (7, 8, 5), (None, 2, 3)), strict=True):
        for entry, value in zip(world.entries, values, strict=True):
            if value is not None:
                score(session, world, juror, entry, value)
    as_admin(client, world)
    html = client.get(f"/admin/jury/{world.contest.slug}/results").get_data(as_text=True)
    assert "juror-offset model" in html and "Jurors disagree strongly" in html
    assert html.index("Entry B") < html.index("Entry A") < html.index("Entry C")
    assert "56.67" in html and "-26.67" in html  # A's quality 170/3 and the harsh juror's offset -80/3


def test_the_decision_is_recorded_with_a_reason_and_publishing_opens_the_public_page(client, session):
    world = make_jury_world(session, n_entries=2, criteria=ONE_CRITERION)
    first, second = world.entries
    for juror in world.jurors:
        score(session, world, juror, first, 8)
        score(session, world, juror, second, 6)
    as_admin(client, world)
    page, results = f"/admin/jury/{world.contest.slug}", f"/admin/jury/{world.contest.slug}/results"
    for action in ("open_discussion", "open_decision"):
        assert post(client, f"{page}/phase", page, action=action).status_code == 302
    assert client.get(f"/contests/{world.contest.slug}/results").status_code == 404
    swapped = {f"place_{first.id}": "2", f"place_{second.id}": "1"}
    no_reason = post(client, f"{page}/decision", results, **swapped, reason="")
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.get_data(as_text=True)
    assert post(client, f"{page}/decision", results, **swapped, reason="Local impact").status_code == 302
    assert post(client, f"{page}/phase", page, action="publish").status_code == 302
    public = client.get(f"/contests/{world.contest.slug}/results").get_data(as_text=True)
    assert public.index("Entry B") < public.index("Entry A") and "Local impact" in public


def test_publishing_without_a_decision_is_refused(client, session):
    world = make_jury_world(session)
    as_admin(client, world)
    page = f"/admin/jury/{world.contest.slug}"
    for action in ("open_discussion", "open_decision"):
        post(client, f"{page}/phase", page, action=action)
    assert post(client, f"{page}/phase", page, action="publish").status_code == 303
    assert "Record the jury's decision before publishing." in text(client.get(page))
