"""The demo: contest, districts, users for every role and believable campaigns with teams, rewards and
updates (no pledges: those come through the payment provider). Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from crowdfund.db import utcnow
from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify
from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest, District
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services import accounts
from crowdfund.services.demo_content import DESCRIPTION, PITCHES, REWARDS, TEAMS, UPDATES, Pitch

BERLIN = ZoneInfo("Europe/Berlin")
CONTEST_SLUG = "crowdfunding-wettbewerb-kassel-2027"
DEMO_USERS: tuple[tuple[str, str, str, tuple[Role, ...]], ...] = (
    ("admin@demo.crowdfunding-kassel.de", "Anna Organisatorin", "demo-admin-2027", (Role.ADMIN,)),
    ("finanzen@demo.crowdfunding-kassel.de", "Felix Finanz", "demo-finance-2027", (Role.FINANCE,)),
    ("jury@demo.crowdfunding-kassel.de", "Julia Jurorin", "demo-juror-2027", (Role.JUROR,)),
    ("initiative@demo.crowdfunding-kassel.de", "Ivo Initiator", "demo-initiator-2027", (Role.INITIATOR,)),
    ("unterstuetzer@demo.crowdfunding-kassel.de", "Bea Backer", "demo-backer-2027", ()),
)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.created[kind] = self.created.get(kind, 0) + n

    def summary(self) -> str:
        made = ", ".join(f"{n} {kind}" for kind, n in self.created.items()) or "nothing new (already seeded)"
        lines = [f"Demo data: created {made}.", "Demo logins (e-mail / password / roles):"]
        lines += [f"  {email:45} {pw:22} {roles}" for email, pw, roles in self.logins]
        return "\n".join(lines)


def end_of_day_berlin(day: datetime) -> datetime:
    """Return 23:59:59 Europe/Berlin on the calendar day of `day`, as UTC-aware datetime."""
    local = datetime.combine(day.astimezone(BERLIN).date(), time(23, 59, 59), tzinfo=BERLIN)
    return local.astimezone(day.tzinfo)


def seed_demo(session: Session, *, extra_projects: int = 0, now: datetime | None = None) -> SeedReport:
    """Create what is missing of the demo; a second run creates nothing."""
    now = now or utcnow()
    report = SeedReport()
    districts = _seed_districts(session, report)
    contest = _seed_contest(session, report, now)
    users = _seed_users(session, report)
    initiator = users["initiative@demo.crowdfunding-kassel.de"]
    existing = _demo_projects(session)
    for position, pitch in enumerate(PITCHES):
        project = existing.get(slugify(pitch.title))
        if project is None:
            project = _new_project(session, pitch, districts[pitch.district], contest, initiator, now, position)
            report.add("projects")
        _seed_extras(session, report, project, now)
    if extra_projects:
        _seed_synthetic(session, report, extra_projects, list(districts.values()), contest, initiator, now)
    session.flush()
    return report


def _seed_districts(session: Session, report: SeedReport) -> dict[str, District]:
    existing = {d.name: d for d in session.scalars(select(District))}
    for name in KASSEL_DISTRICTS:
        if name not in existing:
            existing[name] = District(name=name, slug=slugify(name))
            session.add(existing[name])
            report.add("districts")
    session.flush()
    return existing


def _seed_contest(session: Session, report: SeedReport, now: datetime) -> Contest:
    contest = session.scalars(select(Contest).where(Contest.slug == CONTEST_SLUG)).first()
    if contest is not None:
        return contest
    day = timedelta(days=1)
    contest = Contest(
        slug=CONTEST_SLUG, name="Crowdfunding-Wettbewerb Kassel 2027",
        description=("Der gemeinsame Crowdfunding-Wettbewerb der Universität Kassel und der "
                     "Wirtschaftsförderung Region Kassel: Innovation aus Bürgerhand für alle 23 Stadtteile."),
        submission_start=now - 90 * day, submission_end=now - 45 * day, review_end=now - 31 * day,
        funding_start=now - 30 * day, funding_end=end_of_day_berlin(now + 90 * day),
        jury_end=now + 120 * day, results_at=now + 130 * day,
    )
    session.add(contest)
    session.flush()
    report.add("contest")
    return contest


def _seed_users(session: Session, report: SeedReport) -> dict[str, User]:
    users = {}
    for email, name, password, roles in DEMO_USERS:
        user = accounts.find_user_by_email(session, email)
        if user is None:
            user = accounts.register_user(session, email=email, name=name, password=password, roles=roles)
            report.add("users")
        users[email] = user
        report.logins.append((email, password, ", ".join(sorted(user.roles))))
    return users


def _demo_projects(session: Session) -> dict[str, Project]:
    slugs = [slugify(pitch.title) for pitch in PITCHES]
    stmt = (select(Project).where(Project.slug.in_(slugs))
            .options(selectinload(Project.team), selectinload(Project.rewards), selectinload(Project.updates)))
    return {project.slug: project for project in session.scalars(stmt)}


def _new_project(session: Session, pitch: Pitch, district: District, contest: Contest, initiator: User,
                 now: datetime, position: int) -> Project:
    project = Project(
        slug=slugify(pitch.title), title=pitch.title, pitch=pitch.pitch, category=pitch.category,
        description=DESCRIPTION.format(pitch=pitch.pitch, district=district.name), district=district,
        contest=contest, initiator=initiator, state=pitch.state, threshold_cents=pitch.threshold_eur * 100,
        goal_cents=pitch.goal_eur * 100 if pitch.goal_eur else None,
        deadline=end_of_day_berlin(now + timedelta(days=pitch.days_to_deadline)),
        published_at=contest.funding_start + timedelta(hours=position),
    )
    session.add(project)
    return project


def _seed_extras(session: Session, report: SeedReport, project: Project, now: datetime) -> None:
    """Give a demo campaign its team, rewards and updates, each only if it has none yet."""
    if not project.team:
        project.team = [TeamMember(name=name, role=role, position=i)
                        for i, (name, role) in enumerate(TEAMS.get(project.title, ()))]
        report.add("team members", len(project.team))
    if not project.rewards:
        project.rewards = [
            Reward(title=r.title, description=r.description, min_amount_cents=r.min_eur * 100,
                   quantity_total=r.quantity, delivery_estimate=_month(now, r.delivery_in_months))
            for r in REWARDS.get(project.title, ())
        ]
        report.add("rewards", len(project.rewards))
    if not project.updates:
        project.updates = [ProjectUpdate(title=u.title, body=u.body, created_at=now - timedelta(days=u.days_ago))
                           for u in UPDATES.get(project.title, ())]
        report.add("updates", len(project.updates))


def _month(now: datetime, months_ahead: int) -> str:
    """Return the month `months_ahead` after `now` as "YYYY-MM" (a reward's delivery estimate)."""
    index = now.year * 12 + now.month - 1 + months_ahead
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _seed_synthetic(session: Session, report: SeedReport, count: int, districts: list[District],
                    contest: Contest, initiator: User, now: datetime) -> None:
    """Bulk-insert the missing synthetic live campaigns `projektidee-00001` ... (for load tests)."""
    have = set(session.scalars(select(Project.slug).where(Project.slug.like("projektidee-%"))))
    rows = []
    for i in range(1, count + 1):
        slug = f"projektidee-{i:05d}"
        if slug in have:
            continue
        district = districts[i % len(districts)]
        pitch = f"Eine synthetische Idee aus Bürgerhand für {district.name}, erzeugt für Lasttests."
        rows.append({
            "slug": slug, "title": f"Projektidee {i:05d} für {district.name}", "pitch": pitch,
            "description": DESCRIPTION.format(pitch=pitch, district=district.name),
            "category": CATEGORIES[i % len(CATEGORIES)], "state": "live", "district_id": district.id,
            "contest_id": contest.id, "initiator_id": initiator.id, "threshold_cents": 100_000 + (i % 50) * 10_000,
            "goal_cents": None, "deadline": end_of_day_berlin(now + timedelta(days=5 + i % 80)),
            "published_at": contest.funding_start + timedelta(minutes=i), "created_at": now, "updated_at": now,
        })
    for start in range(0, len(rows), 500):
        session.execute(insert(Project), rows[start:start + 500])
    report.add("projects", len(rows))
