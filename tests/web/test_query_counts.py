"""The public pages and their API twins run as many SQL statements for 500 rows as for 5."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.rewards import Reward
from tests.factories import make_backers, make_campaign, make_campaign_world

LIST_PATHS = ["/projects", "/projects?sort=most_backers", "/projects?sort=percent_funded&district=mitte",
              "/projects?q=idea&category=digital&state=live", "/districts", "/districts/mitte",
              "/api/v1/projects", "/api/v1/projects?sort=most_backers&district=mitte&page=2&page_size=2"]
CAMPAIGN_PATHS = ["/projects/{slug}", "/projects/{slug}/widget", "/api/v1/projects/{slug}"]


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statement_counts(app, client, paths: list[str]) -> dict[str, int]:
    counts = {}
    for path in paths:
        with counted(app.extensions["db_engine"]) as statements:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[path] = len(statements)
    return counts


def add_projects(session, world, n: int, backers) -> None:
    """Bulk-insert `n` live projects, each with two counting pledges and a cancelled one."""
    now = datetime.now(UTC)
    first = session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1)) or 0
    session.execute(insert(Project), [
        {"slug": f"idea-{first + i}", "title": f"Idea {first + i}", "pitch": "An idea for Kassel.",
         "category": "digital", "state": "live", "threshold_cents": 100_000,
         "deadline": now + timedelta(days=1 + i % 30), "published_at": now - timedelta(minutes=i),
         "contest_id": world.contest.id, "district_id": world.district.id, "initiator_id": world.initiator.id}
        for i in range(1, n + 1)
    ])
    ids = session.scalars(select(Project.id).where(Project.id > first)).all()
    session.execute(insert(Pledge), [
        {"project_id": pid, "backer_id": backers[k % len(backers)].id, "amount_cents": 1_000 * (k + 1),
         "status": status}
        for pid in ids for k, status in enumerate(("active", "paid", "cancelled"))
    ])
    session.commit()


def add_campaign_rows(session, project: Project, n: int) -> None:
    """Bulk-insert `n` rewards, pledges (each by a new backer: one open pledge per backer and project),
    updates and team members for one campaign."""
    now = datetime.now(UTC)
    backers = make_backers(session, n)
    session.execute(insert(Reward), [
        {"project_id": project.id, "title": f"Reward {i}", "min_amount_cents": 100 * (i + 1),
         "quantity_total": 20 if i % 2 else None, "quantity_claimed": i % 2} for i in range(n)])
    session.execute(insert(Pledge), [
        {"project_id": project.id, "backer_id": backers[i].id, "amount_cents": 500 + i,
         "status": ("active", "paid", "cancelled", "pending_setup")[i % 4]} for i in range(n)])
    session.execute(insert(ProjectUpdate), [
        {"project_id": project.id, "title": f"News {i}", "body": f"Update *{i}*",
         "created_at": now - timedelta(hours=i)} for i in range(n)])
    session.execute(insert(TeamMember), [
        {"project_id": project.id, "name": f"Member {i}", "position": i} for i in range(n)])
    session.commit()


@pytest.fixture
def world(session):
    return make_campaign_world(session)


def test_lists_and_district_pages_do_not_run_more_statements_for_more_projects(app, client, session, world):
    backers = make_backers(session, 7)
    add_projects(session, world, 5, backers)
    client.get("/projects")  # warm-up: nothing first-time-only is counted
    few = statement_counts(app, client, LIST_PATHS)
    add_projects(session, world, 495, backers)
    many = statement_counts(app, client, LIST_PATHS)
    assert many == few
    assert max(few.values()) <= 4, few


def test_a_campaign_page_does_not_run_more_statements_for_more_rewards_pledges_and_updates(
        app, client, session, world):
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    paths = [path.format(slug=project.slug) for path in CAMPAIGN_PATHS]
    add_campaign_rows(session, project, 5)
    client.get(paths[0])
    few = statement_counts(app, client, paths)
    add_campaign_rows(session, project, 495)
    many = statement_counts(app, client, paths)
    assert many == few
    assert few[paths[1]] == 1 and max(few.values()) <= 5, few  # the page's fifth: its matching pots
