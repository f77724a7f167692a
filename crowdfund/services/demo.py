"""The demo: contest, districts, users for every role and believable campaigns with teams, rewards and
updates; idempotent. Pledges come only through a payment provider (`seed_demo_pledges`): demo backers save a
test card on SetupIntents confirmed at the provider, one of them on a campaign that ended yesterday with its
threshold reached, so that `settle` charges them."""

from __future__ import annotations

from collections.abc import Callable
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
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services import accounts, pledges
from crowdfund.services.demo_content import (
    DEMO_BACKER_PASSWORD,
    DEMO_BACKERS,
    DEMO_PLEDGES,
    DESCRIPTION,
    ENDED_PITCH,
    PITCHES,
    REWARDS,
    TEAMS,
    UPDATES,
    DemoPledge,
    Pitch,
)
from payments.gateway import PaymentError, PaymentGateway, ProviderUnavailable

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


# --- demo pledges through the payment provider -------------------------------------------------------------

# Saves `card` (a test card number) on the SetupIntent with this client secret, at the provider, as the
# browser's Stripe.js would (localstripe: payments.localstripe_admin.confirm_card_setup).
CardConfirmer = Callable[[str, str], object]


class DemoProviderUnreachable(RuntimeError):
    """The payment provider did not answer; the demo pledges not yet committed were rolled back."""


@dataclass
class PledgeSeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ended_campaign: str = ""

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.created[kind] = self.created.get(kind, 0) + n

    def summary(self) -> str:
        made = ", ".join(f"{n} {kind}" for kind, n in self.created.items()) or "nothing new (already seeded)"
        lines = [f"Demo pledges (through the payment provider): created {made}."]
        lines += [f"  problem: {problem}" for problem in self.problems]
        if self.logins:
            lines.append("Demo backers (e-mail / password):")
            lines += [f"  {email:45} {password}" for email, password in self.logins]
        if self.ended_campaign:
            lines.append(f"The campaign '{self.ended_campaign}' ended yesterday above its threshold: "
                         "`flask --app wsgi settle` funds it and charges its pledges.")
        return "\n".join(lines)


def seed_demo_pledges(session: Session, gateway: PaymentGateway, confirm_card: CardConfirmer, *,
                      rules: pledges.PledgeRules, now: datetime | None = None) -> PledgeSeedReport:
    """Add the demo backers, the ended campaign and their pledges, each pledge saved with a test card on a
    SetupIntent confirmed at the provider and activated on the provider's word (as a real pledge is).

    Needs `seed_demo` first. Idempotent: a backer who already has a pledge for the campaign gets none; a
    pledge left pending by an interrupted run is confirmed now. The backers and the ended campaign are
    committed with the first pledge the provider accepted, each later pledge on its own; an unreachable
    provider raises DemoProviderUnreachable (what was not committed is rolled back). A pledge the provider
    refuses is reported in `problems` and left out."""
    now = now or utcnow()
    report = PledgeSeedReport()
    contest = session.scalars(select(Contest).where(Contest.slug == CONTEST_SLUG)).first()
    initiator = accounts.find_user_by_email(session, DEMO_USERS[3][0])
    if contest is None or initiator is None:
        raise ValueError("run seed_demo first: the demo contest and initiator are missing")
    users = _seed_backers(session, report)
    projects = _demo_projects(session)
    ended = session.scalars(select(Project).where(Project.slug == slugify(ENDED_PITCH.title))
                            .options(selectinload(Project.team), selectinload(Project.rewards),
                                     selectinload(Project.updates))).first()
    if ended is not None:
        projects[ended.slug] = ended
    else:
        district = session.scalars(select(District).where(District.name == ENDED_PITCH.district)).one()
        ended = _new_project(session, ENDED_PITCH, district, contest, initiator, now, len(PITCHES))
        report.add("projects")
        session.flush()
        projects[ended.slug] = ended
    _seed_extras(session, report, ended, now)
    session.flush()
    report.ended_campaign = ended.title
    for spec in DEMO_PLEDGES:
        project, backer = projects[slugify(spec.project_title)], users[spec.backer_email]
        try:
            outcome = _demo_pledge(session, gateway, confirm_card, project, backer, spec, rules, now)
        except (pledges.PaymentProviderError, ProviderUnavailable, PaymentError, OSError) as error:
            session.rollback()
            if isinstance(error, ProviderUnavailable | OSError) or getattr(error, "unavailable", False):
                raise DemoProviderUnreachable(f"the payment provider did not answer: {error}") from error
            report.problems.append(f"{spec.backer_email} on {project.slug}: {error}")
            continue
        if outcome == "created":
            report.add("pledges")
        elif outcome != "exists":
            report.problems.append(f"{spec.backer_email} on {project.slug}: the card was not saved ({outcome})")
    session.commit()
    return report


def _seed_backers(session: Session, report: PledgeSeedReport) -> dict[str, User]:
    users = {}
    for email, name in DEMO_BACKERS:
        user = accounts.find_user_by_email(session, email)
        if user is None:
            user = accounts.register_user(session, email=email, name=name, password=DEMO_BACKER_PASSWORD)
            report.add("backers")
        users[email] = user
        report.logins.append((email, DEMO_BACKER_PASSWORD))
    for email, _name, _password, _roles in DEMO_USERS:
        if (user := accounts.find_user_by_email(session, email)) is not None:
            users[email] = user
    return users


def _demo_pledge(session: Session, gateway: PaymentGateway, confirm_card: CardConfirmer, project: Project,
                 backer: User, spec: DemoPledge, rules: pledges.PledgeRules, now: datetime) -> str:
    """Create and activate one demo pledge; return created, exists or why the card was not saved."""
    existing = session.scalars(select(Pledge).where(Pledge.project_id == project.id, Pledge.backer_id == backer.id)
                               .order_by(Pledge.id.desc())).first()
    if existing is not None and existing.status != "pending_setup":
        return "exists"
    # The ended campaign took its pledges the day before its deadline.
    when = now if pledges.is_open(project, now) else (project.deadline or now) - timedelta(days=1)
    if existing is None:
        reward = next((r for r in project.rewards if r.title == spec.reward_title), None)
        started = pledges.start_pledge(
            session, gateway, project=project, backer=backer, amount_cents=spec.amount_eur * 100,
            reward_id=reward.id if reward is not None else None, anonymous=False, message="",
            payment_method_type="card", now=when, rules=rules)
        session.commit()  # the provider has answered: the pledge and its SetupIntent are kept
        pledge, secret = started.pledge, started.setup_intent.client_secret
    else:  # left pending by an interrupted run
        pledge, secret = existing, gateway.retrieve_setup_intent(existing.setup_intent_id or "").client_secret
    try:
        confirm_card(secret, spec.card)
    except OSError:
        raise
    except Exception as error:  # the provider refused the card: reported, not fatal
        return f"refused: {error}"
    result = pledges.confirm_pledge(session, gateway, pledge, actor_id=backer.id, now=when)
    session.commit()
    if result.outcome in (pledges.ConfirmOutcome.ACTIVATED, pledges.ConfirmOutcome.ALREADY_ACTIVE):
        return "created"
    return result.setup_intent_status or result.outcome.value
