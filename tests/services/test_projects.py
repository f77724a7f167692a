"""Pitches: validation by field, slugs, deadlines in Berlin, editing rules, covers, rewards and their stock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.projects import Project, TeamMember
from crowdfund.models.rewards import Reward
from crowdfund.services import projects, rewards
from crowdfund.services.projects import NotEditable, ProjectData, ProjectInvalid, TeamMemberData
from crowdfund.services.rewards import RewardData
from tests.factories import (
    make_complete_pitch,
    make_district,
    make_open_contest,
    make_project,
    make_reward,
    make_user,
    png_bytes,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def world(session):
    return {
        "initiator": make_user(session, Role.INITIATOR),
        "contest": make_open_contest(session),
        "district": make_district(session, "Wesertor"),
    }


def pitch(world, **changes) -> ProjectData:
    data = ProjectData(title="Grüne Oase am Fuldaufer", pitch="Hochbeete für alle.",
                       district_id=world["district"].id, category="environment", threshold_cents=250_000)
    return replace(data, **changes)


def create(session, world, tmp_path, **changes) -> Project:
    return projects.create_project(session, tmp_path, initiator=world["initiator"], contest=world["contest"],
                                   data=pitch(world, **changes))


def a_day_in_the_funding_window(contest, days: int = 10):
    return (contest.funding_start + timedelta(days=days)).astimezone(BERLIN).date()


def test_a_valid_pitch_becomes_a_draft_with_a_slug_from_its_title(session, world, tmp_path):
    project = create(session, world, tmp_path)
    assert (project.state, project.slug, project.contest, project.initiator) == (
        "draft", "gruene-oase-am-fuldaufer", world["contest"], world["initiator"])


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved(session, world, tmp_path):
    with pytest.raises(ProjectInvalid) as caught:
        create(session, world, tmp_path, title=" ", pitch="x" * 301, category="space", district_id=999_999,
               threshold_cents=99, goal_cents=50)
    assert caught.value.errors == {
        "title": "required", "pitch": "too_long", "category": "unknown", "district_id": "unknown",
        "threshold_cents": "threshold_too_low", "goal_cents": "goal_below_threshold",
    }
    assert session.scalars(select(Project)).all() == []


def test_a_pitch_of_exactly_300_characters_is_accepted(session, world, tmp_path):
    assert len(create(session, world, tmp_path, pitch="x" * 300).pitch) == 300


@pytest.mark.parametrize(("goal", "error"), [(250_000, None), (None, None), (249_999, "goal_below_threshold"),
                                             (1_000_000_001, "amount_too_high")])
def test_the_goal_is_optional_but_never_below_the_threshold(session, world, tmp_path, goal, error):
    if error is None:
        assert create(session, world, tmp_path, goal_cents=goal).goal_cents == goal
    else:
        with pytest.raises(ProjectInvalid) as caught:
            create(session, world, tmp_path, goal_cents=goal)
        assert caught.value.errors == {"goal_cents": error}


def test_a_taken_slug_gets_the_next_free_number(session, world, tmp_path):
    slugs = [create(session, world, tmp_path).slug for _ in range(3)]
    assert slugs == ["gruene-oase-am-fuldaufer", "gruene-oase-am-fuldaufer-2", "gruene-oase-am-fuldaufer-3"]


def test_a_longer_slug_with_the_same_start_is_no_collision(session, world, tmp_path):
    create(session, world, tmp_path, title="Grüne Oase am Fuldaufer Nord")
    assert create(session, world, tmp_path).slug == "gruene-oase-am-fuldaufer"


def test_renaming_a_draft_moves_its_slug_but_keeps_it_when_the_title_stays(session, world, tmp_path):
    project = create(session, world, tmp_path)
    projects.update_project(session, tmp_path, project, pitch(world, pitch="Neuer Text."))
    assert project.slug == "gruene-oase-am-fuldaufer"
    projects.update_project(session, tmp_path, project, pitch(world, title="Sonnenbank Wesertor"))
    assert project.slug == "sonnenbank-wesertor"


def test_the_deadline_is_the_end_of_the_chosen_day_in_berlin(session, world, tmp_path):
    day = a_day_in_the_funding_window(world["contest"])
    project = create(session, world, tmp_path, deadline_day=day)
    assert project.deadline == datetime.combine(day, time.max, tzinfo=BERLIN).astimezone(UTC)
    assert project.deadline.astimezone(BERLIN).time() == time.max


@pytest.mark.parametrize("days", [-2, 62])
def test_a_deadline_outside_the_funding_window_is_refused(session, world, tmp_path, days):
    with pytest.raises(ProjectInvalid) as caught:
        create(session, world, tmp_path, deadline_day=a_day_in_the_funding_window(world["contest"], days))
    assert caught.value.errors == {"deadline": "outside_window"}


@pytest.mark.parametrize("state", ["submitted", "approved", "live", "ended", "funded", "not_funded", "rejected",
                                   "withdrawn"])
def test_editing_is_refused_once_the_pitch_left_draft_and_changes_requested(session, world, tmp_path, state):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state=state)
    with pytest.raises(NotEditable):
        projects.update_project(session, tmp_path, project, pitch(world))
    assert project.title != "Grüne Oase am Fuldaufer"


def test_editing_a_pitch_sent_back_for_changes_is_allowed(session, world, tmp_path):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state="changes_requested")
    projects.update_project(session, tmp_path, project, pitch(world, pitch="Besser erklärt."))
    assert project.pitch == "Besser erklärt."


def test_saving_replaces_the_team_and_skips_empty_rows(session, world, tmp_path):
    project = create(session, world, tmp_path, team=(TeamMemberData("Lea", "Gärtnerin"), TeamMemberData("Tom")))
    team = (TeamMemberData("Ada", "Technik"), TeamMemberData("", ""), TeamMemberData(" Lea ", ""))
    projects.update_project(session, tmp_path, project, pitch(world, team=team))
    session.commit()
    rows = session.scalars(select(TeamMember).order_by(TeamMember.position)).all()
    assert [(m.name, m.role, m.position) for m in rows] == [("Ada", "Technik", 0), ("Lea", "", 1)]


def test_a_team_member_with_a_role_but_no_name_is_refused(session, world, tmp_path):
    with pytest.raises(ProjectInvalid) as caught:
        create(session, world, tmp_path, team=(TeamMemberData("", "Kasse"),))
    assert caught.value.errors == {"team": "name_missing"}


def test_a_cover_image_is_re_encoded_and_stored_under_its_content_hash(session, world, tmp_path):
    project = create(session, world, tmp_path, cover=png_bytes())
    stored = tmp_path / "covers" / project.cover_image
    assert stored.is_file() and project.cover_image.endswith((".webp", ".jpg"))
    assert stored.read_bytes()[:4] in (b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert create(session, world, tmp_path, cover=png_bytes()).cover_image == project.cover_image


def test_a_text_file_named_png_is_refused_on_the_cover_field(session, world, tmp_path):
    with pytest.raises(ProjectInvalid) as caught:
        create(session, world, tmp_path, cover=b"just some text, not an image")
    assert caught.value.errors == {"cover": "not_an_image"}
    assert not (tmp_path / "covers").exists() or list((tmp_path / "covers").iterdir()) == []


def test_saving_without_a_new_cover_keeps_the_old_one(session, world, tmp_path):
    project = create(session, world, tmp_path, cover=png_bytes())
    name = project.cover_image
    projects.update_project(session, tmp_path, project, pitch(world, pitch="Anders."))
    assert project.cover_image == name


def test_submission_needs_description_deadline_and_recipient(session, world, tmp_path):
    project = create(session, world, tmp_path)
    assert projects.missing_for_submission(project) == {
        "description": "required", "deadline": "required", "recipient_name": "required",
        "recipient_address": "required",
    }
    complete = make_complete_pitch(session, initiator=world["initiator"], contest=world["contest"],
                                   district=world["district"])
    assert projects.missing_for_submission(complete) == {}


def test_updates_can_be_posted_only_from_approval_on(session, world):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state="submitted")
    now = datetime.now(UTC)
    with pytest.raises(NotEditable):
        projects.post_update(session, project, author=world["initiator"], title="News", body="Text", now=now)
    project.state = "approved"
    update = projects.post_update(session, project, author=world["initiator"], title=" News ", body="*Text*", now=now)
    assert (update.title, update.body, update.created_at) == ("News", "*Text*", now)
    with pytest.raises(ProjectInvalid) as caught:
        projects.post_update(session, project, author=world["initiator"], title="", body=" ", now=now)
    assert caught.value.errors == {"title": "required", "body": "required"}


# Rewards


def reward_data(**changes) -> RewardData:
    return replace(RewardData(title="Postkarte", min_amount_cents=1_000, quantity_total=50,
                              delivery_estimate="2027-09"), **changes)


def test_rewards_are_added_edited_and_deleted_while_the_pitch_is_editable(session, world, tmp_path):
    project = create(session, world, tmp_path)
    reward = rewards.add_reward(session, project, reward_data())
    rewards.update_reward(session, reward, reward_data(title="Zwei Postkarten", quantity_total=None))
    assert (reward.title, reward.quantity_total) == ("Zwei Postkarten", None)
    rewards.delete_reward(session, reward)
    session.commit()
    assert session.scalars(select(Reward)).all() == []


def test_invalid_reward_fields_are_named(session, world, tmp_path):
    project = create(session, world, tmp_path)
    with pytest.raises(ProjectInvalid) as caught:
        rewards.add_reward(session, project, reward_data(title="", min_amount_cents=99, quantity_total=0,
                                                         delivery_estimate="2027-13"))
    assert caught.value.errors == {"title": "required", "min_amount_cents": "amount_too_low",
                                   "quantity_total": "quantity_too_low", "delivery_estimate": "invalid_month"}


@pytest.mark.parametrize("state", ["submitted", "approved", "live"])
def test_rewards_cannot_be_added_edited_or_deleted_after_submission(session, world, state):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state=state)
    reward = make_reward(session, project)
    for attempt in (lambda: rewards.add_reward(session, project, reward_data()),
                    lambda: rewards.update_reward(session, reward, reward_data()),
                    lambda: rewards.delete_reward(session, reward)):
        with pytest.raises(NotEditable):
            attempt()
    assert reward.title == "Postcard"


@pytest.mark.parametrize(("new_total", "ok"), [(12, True), (7, True), (None, True), (6, False), (0, False)])
def test_reward_stock_after_approval_never_drops_below_what_was_claimed(session, world, new_total, ok):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state="live")
    reward = make_reward(session, project, quantity_total=10, quantity_claimed=7)
    if ok:
        rewards.change_reward_stock(session, reward, new_total)
        session.commit()
        assert reward.quantity_total == new_total
    else:
        with pytest.raises(ProjectInvalid) as caught:
            rewards.change_reward_stock(session, reward, new_total)
        assert caught.value.errors == {"quantity_total": "below_claimed"}
        assert reward.quantity_total == 10


@pytest.mark.parametrize("state", ["ended", "funded", "rejected", "withdrawn"])
def test_reward_stock_is_frozen_once_funding_is_over_or_the_pitch_is_out(session, world, state):
    project = make_project(session, initiator=world["initiator"], contest=world["contest"],
                           district=world["district"], state=state)
    reward = make_reward(session, project, quantity_total=10)
    with pytest.raises(NotEditable):
        rewards.change_reward_stock(session, reward, 20)
