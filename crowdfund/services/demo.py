"""The demo: contest, districts, users for every role and believable pitches. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.districts import KASSEL_DISTRICTS, slugify
from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest, District
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services import accounts

BERLIN = ZoneInfo("Europe/Berlin")
CONTEST_SLUG = "crowdfunding-wettbewerb-kassel-2027"
DEMO_USERS: tuple[tuple[str, str, str, tuple[Role, ...]], ...] = (
    ("admin@demo.crowdfunding-kassel.de", "Anna Organisatorin", "demo-admin-2027", (Role.ADMIN,)),
    ("finanzen@demo.crowdfunding-kassel.de", "Felix Finanz", "demo-finance-2027", (Role.FINANCE,)),
    ("jury@demo.crowdfunding-kassel.de", "Julia Jurorin", "demo-juror-2027", (Role.JUROR,)),
    ("initiative@demo.crowdfunding-kassel.de", "Ivo Initiator", "demo-initiator-2027", (Role.INITIATOR,)),
    ("unterstuetzer@demo.crowdfunding-kassel.de", "Bea Backer", "demo-backer-2027", ()),
)

# title, district, category, threshold EUR, goal EUR, days to deadline (negative: ended), state, pitch
PITCHES: tuple[tuple[str, str, str, int, int | None, int, str, str], ...] = (
    ("Reparaturstation am Kulturbahnhof", "Mitte", "mobility", 2500, 4000, 40, "live",
     "Eine offene Fahrrad-Reparaturstation mit Werkzeug, Luftpumpe und QR-Anleitungen – rund um die Uhr "
     "für alle, die in Kassel mit dem Rad unterwegs sind."),
    ("Sensorboxen für gute Luft in Bettenhausen", "Bettenhausen", "digital", 3000, 5000, 55, "live",
     "Zwanzig selbstgebaute Messboxen zeigen offen und in Echtzeit, wie es um Feinstaub und Lärm in "
     "unserem Stadtteil steht – gebaut gemeinsam mit der Schule am Lindenberg."),
    ("Digitale Sprechstunde für Ältere im Wesertor", "Wesertor", "education", 1800, None, 30, "live",
     "Jugendliche erklären Seniorinnen und Senioren jeden Mittwoch Smartphone, Online-Termine und "
     "Videotelefonie – in der Stadtteilbibliothek, kostenlos und geduldig."),
    ("Gemeinschaftsgarten am Fuldaufer", "Unterneustadt", "environment", 4200, 6000, 70, "live",
     "Hochbeete, ein Regenwassertank und eine Tauschbörse für Saatgut machen aus einer Brachfläche am "
     "Fuldaufer einen Garten für die ganze Nachbarschaft."),
    ("Nachbarschaftswerkstatt Rothenditmold", "Rothenditmold", "neighbourhood", 5000, 8000, -10, "funded",
     "Eine offene Werkstatt mit 3D-Drucker, Nähmaschinen und Werkbänken, in der Nachbarinnen und "
     "Nachbarn reparieren, bauen und voneinander lernen."),
    ("Klangpfad im Bergpark", "Bad Wilhelmshöhe", "culture", 6000, None, -20, "not_funded",
     "Zwölf Hörstationen erzählen mit Stimmen aus Kassel die Geschichte des Bergparks – per QR-Code "
     "auf dem eigenen Telefon, barrierearm und mehrsprachig."),
)

DESCRIPTION = (
    "## Worum es geht\n\n{pitch}\n\n## Warum in {district}?\n\nSmart Kassel²³ heißt: die Stadt in jedem "
    "der 23 Stadtteile gemeinsam smarter machen – technisch, sozial und vor allem kreativ. Unsere Idee "
    "kommt aus Bürgerhand und soll im Stadtteil sichtbar werden.\n\n## Was mit dem Geld passiert\n\n"
    "- Material und Ausstattung\n- Aufbau gemeinsam mit Freiwilligen\n- Betrieb im ersten Jahr\n"
)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
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
    for title, district, category, threshold, goal, days, state, pitch in PITCHES:
        _ensure_project(session, report, slug=slugify(title), title=title, pitch=pitch, category=category,
                        district=districts[district], contest=contest, initiator=initiator, state=state,
                        threshold_cents=threshold * 100, goal_cents=goal * 100 if goal else None,
                        deadline=end_of_day_berlin(now + timedelta(days=days)))
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


def _ensure_project(session: Session, report: SeedReport, **fields: object) -> None:
    if session.scalar(select(func.count()).select_from(Project).where(Project.slug == fields["slug"])):
        return
    description = DESCRIPTION.format(pitch=fields["pitch"], district=fields["district"].name)
    session.add(Project(description=description, **fields))
    report.add("projects")


def _seed_synthetic(session: Session, report: SeedReport, count: int, districts: list[District],
                    contest: Contest, initiator: User, now: datetime) -> None:
    have = set(session.scalars(select(Project.slug).where(Project.slug.like("projektidee-%"))))
    for i in range(1, count + 1):
        slug = f"projektidee-{i:05d}"
        if slug in have:
            continue
        district = districts[i % len(districts)]
        title = f"Projektidee {i:05d} für {district.name}"
        _ensure_project(
            session, report, slug=slug, title=title, category=CATEGORIES[i % len(CATEGORIES)],
            pitch=f"Eine synthetische Idee aus Bürgerhand für {district.name}, erzeugt für Lasttests.",
            district=district, contest=contest, initiator=initiator, state="live",
            threshold_cents=100_000 + (i % 50) * 10_000, goal_cents=None,
            deadline=end_of_day_berlin(now + timedelta(days=5 + i % 80)),
        )
        if i % 500 == 0:
            session.flush()
