"""The initiator's and the admins' pages: drafts, typed text kept on errors, preview, submit, review, covers."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crowdfund import create_app
from crowdfund import db as dbm
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.projects import Project
from tests.conftest import AuthActions, csrf_token, make_test_config, wipe
from tests.factories import (
    PASSWORD,
    make_complete_pitch,
    make_district,
    make_open_contest,
    make_project,
    make_user,
    png_bytes,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def world(session):
    return {
        "initiator": make_user(session, Role.INITIATOR, email="ida@example.org", name="Ida Initiator"),
        "admin": make_user(session, Role.ADMIN, email="anna@example.org", name="Anna Admin"),
        "contest": make_open_contest(session),
        "district": make_district(session, "Wesertor"),
    }


def english(client):
    # The assertions read the English texts; German is the platform's default.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return english(app.test_client())


def login(client, email: str):
    response = AuthActions(client).login(email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)


def pitch_form(world, **changes) -> dict[str, object]:
    day = (world["contest"].funding_start + timedelta(days=10)).astimezone(BERLIN).date()
    data = {"title": "Grüne Oase", "pitch": "Hochbeete für alle.", "description": "## Plan\n\nWir **bauen**.",
            "district": str(world["district"].id), "category": "environment", "threshold_eur": "2500",
            "goal_eur": "", "deadline": day.isoformat(), "recipient_name": "Verein e. V.",
            "recipient_address": "Königsplatz 1, 34117 Kassel", "team-0-name": "Lea", "team-0-role": "Gärtnerin"}
    data.update(changes)
    return data


def create_pitch(client, world, **changes):
    data = {**pitch_form(world, **changes), "csrf_token": csrf_token(client, "/my/projects/new")}
    return client.post("/my/projects/new", data=data, content_type="multipart/form-data")


def post_action(client, path: str, page: str, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, follow_redirects=True)


def fresh(session, project_id: int) -> Project:
    session.expire_all()
    return session.get(Project, project_id)


def only_project(session) -> Project:
    session.expire_all()
    return session.scalars(select(Project)).one()


# The initiator


def test_an_initiator_creates_a_draft_and_finds_it_under_my_projects(client, session, world):
    login(client, "ida@example.org")
    response = create_pitch(client, world, goal_eur="4000,50")
    project = only_project(session)
    assert response.status_code == 302 and response.location.endswith(f"/my/projects/{project.id}")
    assert (project.state, project.threshold_cents, project.goal_cents) == ("draft", 250_000, 400_050)
    assert [(m.name, m.role) for m in project.team] == [("Lea", "Gärtnerin")]
    page = client.get("/my/projects").get_data(as_text=True)
    assert "Grüne Oase" in page and f"/my/projects/{project.id}/submit" in page


def test_a_validation_error_keeps_every_typed_text_and_names_the_fields(client, session, world):
    login(client, "ida@example.org")
    response = create_pitch(client, world, title="Mein langer Titel", pitch="x" * 301,
                            description="Ein Text, den ich *nicht* nochmal tippen will.", threshold_eur="12,3456",
                            goal_eur="zwölf", **{"team-1-name": "", "team-1-role": "Kasse"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Mein langer Titel"' in html and "Ein Text, den ich *nicht* nochmal tippen will." in html
    assert 'value="12,3456"' in html and 'value="zwölf"' in html and 'value="Kasse"' in html
    assert "at most two decimal places" in html and "Enter an amount in euros" in html
    assert "Please enter the name, or clear the role." in html
    assert 'aria-invalid="true"' in html and session.scalars(select(Project)).all() == []


def test_a_deadline_outside_the_funding_window_is_a_field_error(client, session, world):
    login(client, "ida@example.org")
    late = (world["contest"].funding_end + timedelta(days=3)).astimezone(BERLIN).date().isoformat()
    response = create_pitch(client, world, deadline=late)
    assert response.status_code == 422
    assert "The deadline must lie within the contest&#39;s funding phase." in response.get_data(as_text=True)


def test_the_preview_shows_the_campaign_with_sanitised_markdown(client, session, world):
    login(client, "ida@example.org")
    create_pitch(client, world, description="**fett** <script>alert('x')</script> [x](javascript:alert(1))")
    project = only_project(session)
    html = client.get(f"/my/projects/{project.id}/preview").get_data(as_text=True)
    assert "Preview" in html and "<strong>fett</strong>" in html and "Hochbeete für alle." in html
    assert "<script>alert" not in html and 'href="javascript:' not in html
    assert ("Lea" in html and "Gärtnerin" in html and "2,500.00" in html) or "2.500,00" in html


def test_submitting_a_complete_draft_sends_it_to_review(client, session, world):
    login(client, "ida@example.org")
    create_pitch(client, world)
    project = only_project(session)
    page = f"/my/projects/{project.id}"
    response = post_action(client, f"{page}/submit", page)
    assert "Your pitch has been submitted for review." in response.get_data(as_text=True)
    assert fresh(session, project.id).state == "submitted"


def test_submitting_an_incomplete_draft_shows_the_missing_fields_in_the_form(client, session, world):
    login(client, "ida@example.org")
    create_pitch(client, world, description="", recipient_name="")
    project = only_project(session)
    page = f"/my/projects/{project.id}"
    response = client.post(f"{page}/submit", data={"csrf_token": csrf_token(client, page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Please complete your pitch before you submit it." in html
    assert html.count("This field is required.") >= 2 and 'value="Grüne Oase"' in html
    assert fresh(session, project.id).state == "draft"


def test_editing_after_submission_is_refused_with_a_clear_message(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="submitted")
    login(client, "ida@example.org")
    response = client.get(f"/my/projects/{project.id}/edit")
    assert response.status_code == 409
    assert "“Submitted for review”" in response.get_data(as_text=True)


def test_an_initiator_cannot_see_or_change_another_initiators_project(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"])
    make_user(session, Role.INITIATOR, email="otto@example.org")
    login(client, "otto@example.org")
    base = f"/my/projects/{project.id}"
    for path in (base, f"{base}/edit", f"{base}/preview", f"{base}/rewards/new"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/my/projects/new")
    assert client.post(f"{base}/submit", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{base}/edit", data={**pitch_form(world), "csrf_token": token}).status_code == 403
    assert fresh(session, project.id).state == "draft"


def test_admins_may_look_at_a_pitch_but_not_edit_it(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"])
    login(client, "anna@example.org")
    assert client.get(f"/my/projects/{project.id}/preview").status_code == 200
    assert client.get(f"/my/projects/{project.id}").status_code == 200
    assert client.get(f"/my/projects/{project.id}/edit").status_code == 403


def test_a_backer_without_the_initiator_role_may_not_pitch(client, session, world):
    make_user(session, email="bea@example.org")
    login(client, "bea@example.org")
    assert client.get("/my/projects/new").status_code == 403
    assert client.get("/my/projects").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, session, world):
    response = client.get("/my/projects/new")
    assert response.status_code == 302 and "/auth/login" in response.location


# Cover images


def test_a_text_file_named_png_is_refused_with_a_field_error(client, session, world):
    login(client, "ida@example.org")
    response = create_pitch(client, world, cover=(io.BytesIO(b"not an image at all"), "cover.png"))
    assert response.status_code == 422
    assert "The file is not a readable image." in response.get_data(as_text=True)
    assert session.scalars(select(Project)).all() == []


def test_a_real_png_is_accepted_and_served_re_encoded_at_the_cover_address(client, session, world):
    login(client, "ida@example.org")
    create_pitch(client, world, cover=(io.BytesIO(png_bytes()), "garden.png"))
    project = only_project(session)
    response = client.get(f"/projects/{project.slug}/cover")
    body = response.get_data()
    response.close()  # a file response keeps its file open until closed
    assert response.status_code == 200 and response.mimetype in ("image/webp", "image/jpeg")
    assert body[:4] in (b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert client.get(f"/my/projects/{project.id}/preview").get_data(as_text=True).count(
        f"/projects/{project.slug}/cover") == 1


def test_a_drafts_cover_is_hidden_from_others_and_a_public_one_is_not(client, session, world):
    login(client, "ida@example.org")
    create_pitch(client, world, cover=(io.BytesIO(png_bytes()), "garden.png"))
    project = only_project(session)
    stranger = english(client.application.test_client())
    assert stranger.get(f"/projects/{project.slug}/cover").status_code == 404
    project.state = "live"
    session.commit()
    response = stranger.get(f"/projects/{project.slug}/cover")
    response.close()
    assert response.status_code == 200


# The admins


@pytest.mark.parametrize("role", [Role.INITIATOR, Role.JUROR, Role.FINANCE])
def test_only_admins_can_open_the_review_or_decide(client, session, world, role):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="submitted")
    make_user(session, role, email="someone@example.org")
    token = csrf_token(client, "/auth/login")  # the session's token stays valid after logging in
    login(client, "someone@example.org")
    assert client.get("/admin/review").status_code == 403
    assert client.get(f"/admin/projects/{project.id}").status_code == 403
    assert client.get("/admin/contests").status_code == 403
    response = client.post(f"/admin/projects/{project.id}/review", data={"action": "approve", "csrf_token": token})
    assert response.status_code == 403 and fresh(session, project.id).state == "submitted"


def test_the_review_queue_shows_submitted_pitches_by_default_and_filters(client, session, world):
    submitted = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                    district=world["district"], state="submitted", title="Eingereicht")
    make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                        district=world["district"], title="Entwurf")
    login(client, "anna@example.org")
    html = client.get("/admin/review").get_data(as_text=True)
    assert "Eingereicht" in html and "Entwurf" not in html
    assert f"/admin/projects/{submitted.id}" in html
    html = client.get("/admin/review?state=draft&category=digital").get_data(as_text=True)
    assert "Entwurf" in html and "Eingereicht" not in html
    assert client.get("/admin/review?state=nonsense").status_code == 400


def decide(client, project, action: str, message: str = ""):
    page = f"/admin/projects/{project.id}"
    return client.post(f"{page}/review", data={"action": action, "message": message,
                                                "csrf_token": csrf_token(client, page)})


def test_admin_approves_and_publishes_and_the_log_shows_who_did_what(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="submitted")
    login(client, "anna@example.org")
    assert decide(client, project, "approve").status_code == 302
    assert decide(client, project, "publish").status_code == 302
    project = fresh(session, project.id)
    assert project.state == "live" and project.published_at is not None
    html = client.get(f"/admin/projects/{project.id}").get_data(as_text=True)
    assert html.count("Anna Admin") == 2 and "Funding open" in html and "Approved" in html


def test_an_illegal_transition_gives_a_clear_message_not_an_error_page(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="rejected")
    login(client, "anna@example.org")
    page = f"/admin/projects/{project.id}"
    response = client.post(f"{page}/review", data={"action": "approve", "csrf_token": csrf_token(client, page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This is not possible while the pitch is in the state “Rejected”." in html
    assert fresh(session, project.id).state == "rejected"
    assert session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "project")).all() == []


def test_requesting_changes_without_a_message_is_a_field_error(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="submitted")
    login(client, "anna@example.org")
    response = decide(client, project, "request_changes", "   ")
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert fresh(session, project.id).state == "submitted"


def test_requested_changes_are_mailed_to_the_initiator_and_shown_on_my_projects(database_url, tmp_path,
                                                                                 smtp_server):
    host, port, inbox = smtp_server
    app = create_app(make_test_config(database_url, tmp_path, MAIL_SERVER=host, MAIL_PORT=str(port)))
    try:
        with app.app_context():
            session = dbm.session()
            initiator = make_user(session, Role.INITIATOR, email="ida@example.org", name="Ida Initiator")
            make_user(session, Role.ADMIN, email="anna@example.org")
            project = make_complete_pitch(session, initiator=initiator, contest=make_open_contest(session),
                                          district=make_district(session), state="submitted", title="Sitzbank")
            project_id = project.id
        admin, owner = english(app.test_client()), english(app.test_client())
        login(admin, "anna@example.org")
        assert decide(admin, project, "request_changes", "Bitte den Standort\nder Bank nennen.").status_code == 302
        _sender, recipients, message = inbox[0]
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert recipients == ["ida@example.org"] and "Sitzbank" in message["Subject"]
        assert "Bitte den Standort\nder Bank nennen." in body and f"/my/projects/{project_id}" in body
        login(owner, "ida@example.org")
        html = owner.get("/my/projects").get_data(as_text=True)
        assert "Bitte den Standort<br>der Bank nennen." in html and "Changes requested" in html
    finally:
        wipe(app)
        app.extensions["db_engine"].dispose()
        app.extensions["db_engine"].dispose()


def test_publish_due_command_publishes_approved_pitches_whose_window_opened(runner, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="approved")
    assert "Published 0 project(s)." in runner.invoke(args=["publish-due"]).output
    contest = world["contest"]
    contest.funding_start -= timedelta(days=40)
    session.commit()
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0 and "Published 1 project(s)." in result.output and project.slug in result.output
    assert fresh(session, project.id).state == "live"


def test_an_initiator_posts_an_update_once_approved(client, session, world):
    project = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                  district=world["district"], state="approved")
    login(client, "ida@example.org")
    page = f"/my/projects/{project.id}"
    response = post_action(client, f"{page}/updates", page, title="Erste Beete", body="Es **wächst**.")
    assert "Your update has been published." in response.get_data(as_text=True)
    html = client.get(f"{page}/preview").get_data(as_text=True)
    assert "Erste Beete" in html and "<strong>wächst</strong>" in html


def test_only_the_owner_of_a_draft_sees_it_in_my_projects(client, session, world):
    make_project(session, initiator=world["initiator"], contest=world["contest"], district=world["district"],
                 title="Idas Idee")
    make_user(session, Role.INITIATOR, email="otto@example.org")
    login(client, "otto@example.org")
    html = client.get("/my/projects").get_data(as_text=True)
    assert "Idas Idee" not in html and re.search(r"You have not pitched an idea yet", html)
