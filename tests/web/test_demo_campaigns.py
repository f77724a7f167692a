"""`seed-demo` gives the public pages something real to show, once."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from crowdfund.models import Pledge, Project, ProjectUpdate, Reward, TeamMember


def counts(session):
    return [session.scalar(select(func.count()).select_from(m)) for m in (Reward, ProjectUpdate, TeamMember, Pledge)]


def test_demo_campaigns_get_teams_rewards_and_updates_once_and_no_pledges(runner, session):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    rewards, updates, team, pledges = first = counts(session)
    assert rewards >= 10 and updates >= 6 and team >= 10 and pledges == 0
    assert session.scalar(select(func.count()).select_from(Reward).where(Reward.quantity_total == 20)) >= 3
    second = runner.invoke(args=["seed-demo"])
    assert "nothing new" in second.output and counts(session) == first


def test_demo_has_live_campaigns_with_future_deadlines_and_ended_ones(runner, session):
    runner.invoke(args=["seed-demo"])
    now = datetime.now(UTC)
    live = session.scalars(select(Project).where(Project.state == "live")).all()
    assert live and all(p.deadline > now and p.published_at for p in live)
    assert {"funded", "not_funded"} <= set(session.scalars(select(Project.state)))


def test_the_demo_campaign_page_shows_rewards_updates_and_team(runner, client):
    runner.invoke(args=["seed-demo"])
    html = client.get("/projects/reparaturstation-am-kulturbahnhof", headers={"Accept-Language": "de"})
    text = html.get_data(as_text=True)
    assert html.status_code == 200
    assert "Flickzeug-Set mit Kassel-Aufdruck" in text and "Der Standort steht fest" in text
    assert "Lea Brandt" in text
