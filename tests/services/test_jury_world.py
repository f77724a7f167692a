"""A contest with its jury, built through the services; used by the jury's service, web and browser tests.

(Plain functions, as in tests/factories.py; the one test below checks the world itself.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import count
from typing import NamedTuple

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from crowdfund.domain.jury import PhaseAction
from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryCriterion, Scorecard
from crowdfund.models.projects import Project
from crowdfund.models.users import User, UserRole
from crowdfund.services import jury, jury_scoring, jury_settings
from crowdfund.services.jury_settings import CriterionData
from tests.factories import PASSWORD, make_campaign, make_contest, make_district

CRITERIA = (("Impact", "2", 0, 10), ("Feasibility", "1", 0, 10))
_seq = count(1)


@cache
def password_hash() -> str:
    """PASSWORD hashed once per test run: hashing costs a third of a second per user."""
    return generate_password_hash(PASSWORD)


def make_person(session: Session, *roles: Role, name: str, email: str | None = None) -> User:
    """A user who can log in with PASSWORD, without hashing it again."""
    user = User(email=email or f"jury{next(_seq)}@example.org", name=name, password_hash=password_hash())
    user.role_rows = [UserRole(role=r.value) for r in roles]
    session.add(user)
    session.commit()
    return user


class JuryWorld(NamedTuple):
    contest: Contest
    admin: User
    initiator: User
    jurors: list[User]
    entries: list[Project]
    criteria: list[JuryCriterion]


def make_jury_world(session: Session, *, n_entries: int = 3, n_jurors: int = 3, funding_ended: bool = True,
                    criteria: tuple = CRITERIA, per_entry: int | None = None,
                    conflicts: tuple[tuple[int, int], ...] = (), open_scoring: bool = True) -> JuryWorld:
    """Entries that ran campaigns, a panel of jurors, criteria; `conflicts` are (juror index, entry index)."""
    now = datetime.now(UTC)
    admin = make_person(session, Role.ADMIN, name="Anna Admin")
    initiator = make_person(session, Role.INITIATOR, name="Ida Initiator")
    jurors = [make_person(session, Role.JUROR, name=f"Juror {chr(65 + i)}") for i in range(n_jurors)]
    contest = make_contest(session, now=now - timedelta(days=61) if funding_ended else now)
    district = make_district(session, f"Mitte {contest.id}")
    entries = [make_campaign(session, initiator=initiator, contest=contest, district=district,
                             state="ended" if funding_ended else "live", title=f"Entry {chr(65 + i)}",
                             deadline=contest.funding_end) for i in range(n_entries)]
    rows = [jury_settings.save_criterion(session, contest, CriterionData(name, "", weight, low, high, {}),
                                         actor=admin) for name, weight, low, high in criteria]
    for juror in jurors:
        jury_settings.add_juror(session, contest, juror, actor=admin)
    jury.get_config(session, contest).jurors_per_entry = per_entry
    for j, e in conflicts:
        jury.declare_conflict(session, contest, jurors[j], entries[e], "collaborator", "", actor=jurors[j])
    if open_scoring:
        jury.change_phase(session, contest, PhaseAction.OPEN_SCORING, actor=admin, now=now)
    session.commit()
    return JuryWorld(contest, admin, initiator, jurors, entries, rows)


def score(session: Session, world: JuryWorld, juror: User, entry: Project, *values: int | None,
          submit: bool = True, comment: str = "") -> Scorecard:
    """Save (and by default submit) a juror's card with one value per criterion, in order."""
    scores = {c.id: v for c, v in zip(world.criteria, values, strict=True)}
    card = jury_scoring.save_scorecard(session, world.contest, juror, entry, scores=scores, comment=comment,
                                       submit=submit, now=datetime.now(UTC))
    session.commit()
    return card


def move(session: Session, world: JuryWorld, *actions: PhaseAction) -> None:
    for action in actions:
        jury.change_phase(session, world.contest, action, actor=world.admin, now=datetime.now(UTC))
    session.commit()


def test_the_world_has_a_panel_criteria_and_every_entry_assigned(session):
    world = make_jury_world(session)
    assert [c.name for c in world.criteria] == ["Impact", "Feasibility"]
    assert jury.panel(session, world.contest) == world.jurors
    assert all(jury.assigned_ids(session, world.contest, j) == {e.id for e in world.entries} for j in world.jurors)
