"""The lifecycle through the transition table: audit rows, repeats, preconditions, publishing, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.domain.projects import IllegalTransition, ProjectAction
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.services import reviews
from crowdfund.services.projects import ProjectInvalid
from tests.factories import (
    make_complete_pitch,
    make_contest,
    make_district,
    make_open_contest,
    make_project,
    make_user,
)

NOW = datetime.now(UTC)


@pytest.fixture
def people(session):
    return {"initiator": make_user(session, Role.INITIATOR, name="Ida Initiator"),
            "admin": make_user(session, Role.ADMIN, name="Anna Admin")}


@pytest.fixture
def pitch(session, people):
    return make_complete_pitch(session, initiator=people["initiator"], contest=make_open_contest(session),
                               district=make_district(session))


def audit_rows(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "project")))


def test_an_action_moves_the_state_and_writes_exactly_one_audit_row(session, people, pitch):
    assert reviews.apply_action(session, pitch, ProjectAction.SUBMIT, actor=people["initiator"], now=NOW) is True
    session.commit()
    [row] = audit_rows(session)
    assert pitch.state == "submitted"
    assert (row.entity_id, row.action, row.from_state, row.to_state, row.actor_id, row.reason) == (
        pitch.id, "submit", "draft", "submitted", people["initiator"].id, None)


def test_a_repeated_action_changes_nothing_and_writes_no_audit_row(session, people, pitch):
    reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    assert reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW) is False
    session.commit()
    assert len(audit_rows(session)) == 1 and pitch.state == "submitted"


@pytest.mark.parametrize(("state", "action"), [("draft", "approve"), ("rejected", "approve"), ("live", "submit"),
                                               ("withdrawn", "publish"), ("approved", "request_changes")])
def test_an_illegal_transition_raises_and_writes_nothing(session, people, pitch, state, action):
    pitch.state = state
    session.commit()
    with pytest.raises(IllegalTransition):
        reviews.apply_action(session, pitch, action, actor=people["admin"], reason="Weil.", now=NOW)
    assert pitch.state == state and audit_rows(session) == []


def test_submitting_an_incomplete_pitch_names_the_missing_fields(session, people):
    draft = make_project(session, initiator=people["initiator"], contest=make_open_contest(session),
                         district=make_district(session))
    with pytest.raises(ProjectInvalid) as caught:
        reviews.apply_action(session, draft, "submit", actor=people["initiator"], now=NOW)
    assert set(caught.value.errors) == {"description", "deadline", "recipient_name", "recipient_address"}
    assert draft.state == "draft" and audit_rows(session) == []


def test_submitting_with_a_deadline_the_contest_no_longer_covers_is_refused(session, people, pitch):
    pitch.contest.funding_end = pitch.deadline - timedelta(days=1)
    with pytest.raises(ProjectInvalid) as caught:
        reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    assert caught.value.errors == {"deadline": "outside_window"}


@pytest.mark.parametrize("action", ["request_changes", "reject"])
def test_asking_for_changes_and_rejecting_need_a_reason(session, people, pitch, action):
    pitch.state = "submitted"
    with pytest.raises(ProjectInvalid) as caught:
        reviews.apply_action(session, pitch, action, actor=people["admin"], reason="  ", now=NOW)
    assert caught.value.errors == {"reason": "required"}
    assert reviews.apply_action(session, pitch, action, actor=people["admin"], reason=" Bitte Budget. ", now=NOW)
    assert audit_rows(session)[-1].reason == "Bitte Budget."


def test_publishing_sets_the_publication_time(session, people, pitch):
    pitch.state = "approved"
    reviews.apply_action(session, pitch, "publish", actor=people["admin"], now=NOW)
    assert (pitch.state, pitch.published_at) == ("live", NOW)


def test_a_pitch_whose_deadline_has_passed_cannot_be_published(session, people, pitch):
    pitch.state = "approved"
    with pytest.raises(ProjectInvalid) as caught:
        reviews.apply_action(session, pitch, "publish", actor=people["admin"], now=pitch.deadline)
    assert caught.value.errors == {"deadline": "passed"} and pitch.state == "approved"


def test_publish_due_publishes_only_approved_projects_whose_window_started(session, people):
    started, upcoming, district = make_contest(session), make_open_contest(session), make_district(session)

    def pitch_in(contest, state, deadline=NOW + timedelta(days=5)):
        project = make_project(session, initiator=people["initiator"], contest=contest, district=district,
                               state=state)
        project.deadline = deadline
        return project

    due = pitch_in(started, "approved")
    untouched = [pitch_in(upcoming, "approved"), pitch_in(started, "submitted"), pitch_in(started, "live"),
                 pitch_in(started, "approved", deadline=NOW - timedelta(hours=1))]
    session.commit()
    assert reviews.publish_due(session, NOW) == [due]
    session.commit()
    assert (due.state, due.published_at) == ("live", NOW)
    assert [p.state for p in untouched] == ["approved", "submitted", "live", "approved"]
    [row] = audit_rows(session)
    assert (row.entity_id, row.action, row.actor_id) == (due.id, "publish", None)
    assert reviews.publish_due(session, NOW) == []


def test_the_history_lists_every_change_with_its_actor_oldest_first(session, people, pitch):
    reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    reviews.apply_action(session, pitch, "request_changes", actor=people["admin"], reason="Mehr Fotos.", now=NOW)
    reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    history = reviews.project_history(session, pitch)
    assert [(h.actor_name, h.from_state, h.to_state, h.reason) for h in history] == [
        ("Ida Initiator", "draft", "submitted", None),
        ("Anna Admin", "submitted", "changes_requested", "Mehr Fotos."),
        ("Ida Initiator", "changes_requested", "submitted", None),
    ]


def test_the_latest_reason_is_shown_only_while_it_applies(session, people, pitch):
    pitch.state = "submitted"
    reviews.apply_action(session, pitch, "request_changes", actor=people["admin"], reason="Erstens.", now=NOW)
    reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    reviews.apply_action(session, pitch, "request_changes", actor=people["admin"], reason="Zweitens.", now=NOW)
    assert reviews.latest_reasons(session, [pitch]) == {pitch.id: "Zweitens."}
    reviews.apply_action(session, pitch, "submit", actor=people["initiator"], now=NOW)
    assert reviews.latest_reasons(session, [pitch]) == {}


def test_each_user_sees_only_the_actions_their_role_allows(session, people, pitch):
    stranger = make_user(session, Role.INITIATOR)
    assert reviews.available_actions(pitch, people["initiator"]) == (ProjectAction.SUBMIT, ProjectAction.WITHDRAW)
    assert reviews.available_actions(pitch, people["admin"]) == ()
    assert reviews.available_actions(pitch, stranger) == ()
    pitch.state = "submitted"
    assert reviews.available_actions(pitch, people["admin"]) == (
        ProjectAction.REQUEST_CHANGES, ProjectAction.APPROVE, ProjectAction.REJECT)


def test_the_review_queue_filters_by_state_district_and_category(session, people):
    contest, mitte, wesertor = make_open_contest(session), make_district(session), make_district(session, "Wesertor")
    a = make_project(session, initiator=people["initiator"], contest=contest, district=mitte, state="submitted")
    b = make_project(session, initiator=people["initiator"], contest=contest, district=wesertor, state="submitted")
    c = make_project(session, initiator=people["initiator"], contest=contest, district=mitte, state="draft")
    b.category = "culture"
    session.commit()
    assert reviews.review_queue(session) == [a, b]
    assert reviews.review_queue(session, district_id=wesertor.id) == [b]
    assert reviews.review_queue(session, category="culture") == [b]
    assert reviews.review_queue(session, state="draft") == [c]
    assert set(reviews.review_queue(session, state="")) == {a, b, c}
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "project")) == 0
