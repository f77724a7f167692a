"""Test data as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest, District
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services import accounts

PASSWORD = "correct horse battery"
_seq = count(1)


def make_user(session: Session, *roles: Role, email: str | None = None, name: str = "Test User",
              password: str = PASSWORD) -> User:
    email = email or f"user{next(_seq)}@example.org"
    user = accounts.register_user(session, email=email, name=name, password=password, roles=roles)
    session.commit()
    return user


def make_district(session: Session, name: str = "Mitte") -> District:
    district = District(name=name, slug=name.lower())
    session.add(district)
    session.commit()
    return district


def make_contest(session: Session, now: datetime | None = None) -> Contest:
    now = now or datetime.now(UTC)
    day = timedelta(days=1)
    contest = Contest(
        slug=f"contest-{next(_seq)}", name="Crowdfunding-Wettbewerb Test",
        submission_start=now - 60 * day, submission_end=now - 30 * day, review_end=now - 20 * day,
        funding_start=now - 10 * day, funding_end=now + 60 * day, jury_end=now + 90 * day,
        results_at=now + 100 * day,
    )
    session.add(contest)
    session.commit()
    return contest


def make_project(session: Session, *, initiator: User, contest: Contest, district: District,
                 state: str = "draft", threshold_cents: int = 100_000, title: str | None = None) -> Project:
    n = next(_seq)
    project = Project(
        slug=f"project-{n}", title=title or f"Project {n}", pitch="A pitch for Kassel.",
        category="digital", state=state, threshold_cents=threshold_cents, contest=contest,
        district=district, initiator=initiator,
    )
    session.add(project)
    session.commit()
    return project


# --- campaigns (public side) -------------------------------------------------------------------------------


def make_campaign(session: Session, *, initiator: User, contest: Contest, district: District, state: str = "live",
                  **fields: object) -> Project:
    """A project with every field the public pages show; `fields` override the defaults."""
    n = next(_seq)
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "slug": f"campaign-{n}", "title": f"Campaign {n}", "pitch": "A pitch for Kassel.",
        "description": "## Plan\n\nWe build it **together**.", "category": "digital", "state": state,
        "threshold_cents": 100_000, "deadline": now + timedelta(days=10), "published_at": now,
    }
    values.update(fields)
    project = Project(contest=contest, district=district, initiator=initiator, **values)
    session.add(project)
    session.commit()
    return project


def make_reward(session: Session, project: Project, *, title: str = "Postcard", min_amount_cents: int = 1_000,
                quantity_total: int | None = None, quantity_claimed: int = 0) -> Reward:
    reward = Reward(project=project, title=title, min_amount_cents=min_amount_cents,
                    quantity_total=quantity_total, quantity_claimed=quantity_claimed)
    session.add(reward)
    session.commit()
    return reward


def make_pledge(session: Session, project: Project, backer: User, amount_cents: int, *,
                status: str = "active", reward: Reward | None = None) -> Pledge:
    pledge = Pledge(project=project, backer=backer, amount_cents=amount_cents, status=status, reward=reward)
    session.add(pledge)
    session.commit()
    return pledge


def make_update(session: Session, project: Project, *, title: str = "News", body: str = "It *works*.",
                created_at: datetime | None = None) -> ProjectUpdate:
    update = ProjectUpdate(project=project, title=title, body=body, created_at=created_at or datetime.now(UTC))
    session.add(update)
    session.commit()
    return update


def make_team_member(session: Session, project: Project, *, name: str = "Lea", role: str = "",
                     position: int = 0) -> TeamMember:
    member = TeamMember(project=project, name=name, role=role, position=position)
    session.add(member)
    session.commit()
    return member


def make_backers(session: Session, n: int) -> list[User]:
    """Insert `n` users in one statement (no password hashing: they never log in)."""
    first = next(_seq)
    rows = [{"email": f"backer{first}-{i}@example.org", "name": f"Backer {i}", "password_hash": "x" * 20}
            for i in range(n)]
    session.execute(insert(User), rows)
    session.commit()
    return list(session.scalars(select(User).where(User.email.like(f"backer{first}-%")).order_by(User.id)))


class CampaignWorld(NamedTuple):
    contest: Contest
    district: District
    other_district: District
    initiator: User


def make_campaign_world(session: Session) -> CampaignWorld:
    """A running contest, two districts (Mitte, Wesertor) and an initiator."""
    initiator = make_user(session, Role.INITIATOR, name="Ida Initiator")
    return CampaignWorld(make_contest(session), make_district(session, "Mitte"),
                         make_district(session, "Wesertor"), initiator)


# --- pitches and review (initiator and admin side) ----------------------------------------------------------


def make_open_contest(session: Session, now: datetime | None = None, name: str = "Wettbewerb offen") -> Contest:
    """A contest taking submissions now; its crowdfunding window runs from 30 to 90 days ahead."""
    now = now or datetime.now(UTC)
    day = timedelta(days=1)
    contest = Contest(
        slug=f"open-contest-{next(_seq)}", name=name,
        submission_start=now - 10 * day, submission_end=now + 10 * day, review_end=now + 20 * day,
        funding_start=now + 30 * day, funding_end=now + 90 * day, jury_end=now + 100 * day,
        results_at=now + 110 * day,
    )
    session.add(contest)
    session.commit()
    return contest


def make_complete_pitch(session: Session, *, initiator: User, contest: Contest, district: District,
                        state: str = "draft", title: str | None = None) -> Project:
    """A pitch with all that submission needs: description, a deadline inside the funding window, recipient."""
    project = make_project(session, initiator=initiator, contest=contest, district=district, state=state,
                           title=title)
    project.description = "## Plan\n\nWe build it **together**."
    project.deadline = contest.funding_start + (contest.funding_end - contest.funding_start) / 2
    project.recipient_name = "Verein Nachbarschaft e. V."
    project.recipient_address = "Königsplatz 1\n34117 Kassel"
    session.commit()
    return project


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG image of one colour."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


# --- pledges (backers' side) ------------------------------------------------------------------------------


def make_api_token(session: Session, user: User, name: str = "tests") -> str:
    """A personal API token of `user` (the raw value, for an Authorization: Bearer header)."""
    raw, _token = accounts.create_api_token(session, user, name)
    session.commit()
    return raw


def make_pledge_world(session: Session, *, quantity_total: int | None = 5, min_amount_cents: int = 2_000,
                      world: CampaignWorld | None = None) -> tuple[CampaignWorld, Project, Reward, User]:
    """A live campaign (deadline in 10 days) with one reward and a backer who can log in; pass `world` to
    add another campaign to the same contest and districts."""
    world = world or make_campaign_world(session)
    project = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district)
    reward = make_reward(session, project, title="Tote bag", min_amount_cents=min_amount_cents,
                         quantity_total=quantity_total)
    backer = make_user(session, name="Bea Backer")
    return world, project, reward, backer


# --- payments (settlement, webhooks, refunds) ---------------------------------------------------------------


def make_due_campaign(session: Session, world: CampaignWorld, *, threshold_cents: int = 10_000,
                      deadline: datetime | None = None, state: str = "live") -> Project:
    """A live campaign whose deadline passed an hour ago (settlement closes it)."""
    deadline = deadline or datetime.now(UTC) - timedelta(hours=1)
    return make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                         state=state, threshold_cents=threshold_cents, deadline=deadline,
                         published_at=deadline - timedelta(days=20))


def make_active_pledge(session: Session, project: Project, backer: User, amount_cents: int, gateway: object, *,
                       method: str = "pm_card_visa", localstripe_url: str | None = None,
                       card: str = "4242424242424242", iban: str | None = None) -> Pledge:
    """An active pledge with a saved payment method at `gateway`.

    With `localstripe_url` the method is saved for real (a customer and a SetupIntent confirmed as Stripe.js
    would: `card`, or SEPA with `iban`); otherwise `gateway` is a FakeGateway and `method` names one of its
    payment methods (pm_card_visa, pm_card_chargeDeclined, pm_card_authenticationRequired, pm_sepa_debit, ...)."""
    from payments import localstripe_admin

    pledge = make_pledge(session, project, backer, amount_cents, status="pending_setup")
    customer = gateway.create_customer(email=backer.email, name=backer.name,  # type: ignore[attr-defined]
                                       idempotency_key=f"test-customer-{pledge.id}")
    pledge.customer_id = customer.id
    if localstripe_url is None:
        pledge.payment_method_id, pledge.payment_method_type = method, gateway.payment_methods[method][0]  # type: ignore[attr-defined]
    else:
        setup = gateway.create_setup_intent(  # type: ignore[attr-defined]
            customer_id=customer.id, payment_method_types=["sepa_debit" if iban else "card"],
            metadata={"pledge_id": str(pledge.id)}, idempotency_key=f"test-setup-{pledge.id}")
        if iban:
            localstripe_admin.confirm_sepa_debit_setup(localstripe_url, setup.client_secret, iban)
        else:
            localstripe_admin.confirm_card_setup(localstripe_url, setup.client_secret, card)
        saved = gateway.retrieve_setup_intent(setup.id)  # type: ignore[attr-defined]
        assert saved.succeeded, saved
        pledge.setup_intent_id = setup.id
        pledge.payment_method_id, pledge.payment_method_type = saved.payment_method_id, saved.payment_method_type
    pledge.status = "active"
    session.commit()
    return pledge


def make_backer(session: Session) -> User:
    """One backer who never logs in (no password hashing: fast)."""
    return make_backers(session, 1)[0]
