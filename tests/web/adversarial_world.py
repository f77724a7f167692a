"""One small world with something behind every URL variable, people of every role, and helpers to act as them.

Used by the authorization matrix and the hostile-input tests. People log in by writing their session
directly (the login form has its own tests and a rate limit); their password is PASSWORD all the same."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crowdfund.db import Base
from crowdfund.domain.jury import PhaseAction
from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryConflict
from crowdfund.models.matching import MatchingPot
from crowdfund.models.outbox import SENT, OutboxMessage
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Payout, PayoutExport, Receipt
from crowdfund.models.rewards import Reward
from crowdfund.models.users import User
from crowdfund.services import accounts, jury, jury_settings, payouts
from crowdfund.services.jury_settings import CriterionData
from crowdfund.services.projects import covers_dir
from payments.fake import FakeGateway
from tests.factories import (
    CampaignWorld,
    make_api_token,
    make_campaign,
    make_complete_pitch,
    make_contest,
    make_district,
    make_pledge,
    make_reward,
    png_bytes,
)
from tests.finance_factories import issue_all, make_paid_project
from tests.services.test_jury_world import make_person

ROLES = ("anonymous", "backer", "other_initiator", "owner", "juror", "finance", "admin")
IBAN = "DE02120300000000202051"


class World(NamedTuple):
    people: dict[str, User]  # by role name (no "anonymous")
    tokens: dict[str, str]  # raw API token by role name
    live_contest: Contest
    jury_contest: Contest
    campaign: Project  # live, owned by "owner", with a reward and the backer's active pledge
    reward: Reward
    pledge: Pledge  # the backer's active pledge for `campaign`
    draft: Project  # owned by "owner", complete, editable
    draft_reward: Reward
    other_draft: Project  # owned by "other_initiator"
    funded: Project  # owned by "owner", charged; holds the backer's paid pledge
    paid_pledge: Pledge
    receipt: Receipt
    payout: Payout
    export: PayoutExport
    entry: Project  # a jury entry the juror may score
    criterion_id: int
    conflict_id: int
    pot: MatchingPot
    reset_token: str
    api_token_id: int  # the backer's token row
    mail: OutboxMessage  # a sent message in the outbox


def build_world(app: Flask, session: Session) -> World:
    """Build the world; the app's payment gateway becomes a FakeGateway (nothing leaves the machine)."""
    fast_sqlite(app)
    fake = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = fake
    people = {
        "backer": make_person(session, name="Bea Backer"),
        "other_initiator": make_person(session, Role.INITIATOR, name="Otto Other"),
        "owner": make_person(session, Role.INITIATOR, name="Ida Owner"),
        "juror": make_person(session, Role.JUROR, name="Jana Juror"),
        "finance": make_person(session, Role.FINANCE, name="Fritz Finance"),
        "admin": make_person(session, Role.ADMIN, name="Anna Admin"),
    }
    for user in people.values():
        user.locale = "en"
    owner = people["owner"]

    # A contest whose crowdfunding runs now: a live campaign with a reward and the backer's pledge, drafts.
    live_contest = make_contest(session)
    district, other_district = make_district(session, "Mitte"), make_district(session, "Wesertor")
    paid = make_paid_project(app, session, fake, [5_000], backers=[people["backer"]],
                             world=CampaignWorld(live_contest, district, other_district, owner))
    issue_all(app)
    campaign = make_campaign(session, initiator=owner, contest=live_contest, district=district, title="Live one")
    reward = make_reward(session, campaign, title="Tote bag", min_amount_cents=2_000, quantity_total=5)
    pledge = make_pledge(session, campaign, people["backer"], 2_500, reward=reward)
    pledge.customer_id, pledge.payment_method_id, pledge.payment_method_type = "cus_x", "pm_card_visa", "card"
    draft = make_complete_pitch(session, initiator=owner, contest=live_contest, district=district, title="My draft")
    draft_reward = make_reward(session, draft, title="Postcard")
    covers = covers_dir(Path(app.config["STORAGE_DIR"]))
    covers.mkdir(parents=True, exist_ok=True)
    (covers / "draft-cover.png").write_bytes(png_bytes())
    draft.cover_image = "draft-cover.png"  # a draft's cover is for its initiator and admins only
    other_draft = make_complete_pitch(session, initiator=people["other_initiator"], contest=live_contest,
                                      district=district, title="Their draft")

    # A contest whose funding ended, in the scoring phase: the juror sits on its panel with one conflict.
    now = datetime.now(UTC)
    jury_contest = make_contest(session, now=now - timedelta(days=61))
    jury_district = make_district(session, "Nord")
    entries = [make_campaign(session, initiator=owner, contest=jury_contest, district=jury_district, state="ended",
                             title=f"Entry {c}", deadline=jury_contest.funding_end) for c in "AB"]
    admin = people["admin"]
    criterion = jury_settings.save_criterion(session, jury_contest, CriterionData("Impact", "", "1", 0, 10, {}),
                                             actor=admin)
    jury_settings.add_juror(session, jury_contest, people["juror"], actor=admin)
    jury.declare_conflict(session, jury_contest, people["juror"], entries[1], "collaborator", "",
                          actor=people["juror"])
    jury.change_phase(session, jury_contest, PhaseAction.OPEN_SCORING, actor=admin, now=now)
    session.commit()
    conflict_id = session.scalars(select(JuryConflict.id)).one()

    # Finance: a payout waiting for approval and one stored SEPA file.
    payout = payouts.request_payout(session, paid.project.id, iban=IBAN, bic="", recipient_name="Verein",
                                    actor_id=people["finance"].id)
    xml = b"<Document/>"
    export = PayoutExport(message_id="MSG-1", xml=xml, sha256=hashlib.sha256(xml).hexdigest(), total_cents=0,
                          count=0, created_by_id=people["finance"].id)
    pot = MatchingPot(sponsor_name="Stadtwerke", contest_id=live_contest.id, budget_cents=100_000)
    mail = OutboxMessage(kind="password_reset", recipient=people["backer"].email, subject="Reset", message=b"x",
                         status=SENT, attempts=1)
    session.add_all([export, pot, mail])
    session.commit()

    tokens = {role: make_api_token(session, user) for role, user in people.items()}
    api_token_id = people["backer"].tokens[0].id
    reset_token = accounts.make_reset_token(app.config["SECRET_KEY"], people["backer"])
    receipt = session.scalars(select(Receipt).order_by(Receipt.id)).first()
    assert receipt is not None
    return World(people, tokens, live_contest, jury_contest, campaign, reward, pledge, draft, draft_reward,
                 other_draft, paid.project, paid.pledges[0], receipt, payout, export, entries[0], criterion.id,
                 conflict_id, pot, reset_token, api_token_id, mail)


def log_in(client: FlaskClient, user: User | None) -> str:
    """Make `client` act as `user` (None: anonymous), in English; return the CSRF token of its session (as
    any page with a form would show it)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    raw = secrets.token_hex(20)
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = raw
        if user is not None:
            flask_session["_user_id"] = user.get_id()
            flask_session["_fresh"] = True
    return URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token").dumps(raw)


def client_as(app: Flask, world: World, role: str) -> tuple[FlaskClient, str]:
    """A client acting as `role` and its CSRF token."""
    client = app.test_client()
    return client, log_in(client, world.people.get(role))


def fast_sqlite(app: Flask) -> None:
    """Commit without waiting for the disk (SQLite only): these tests build a world of ~40 commits each."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name == "sqlite":
        engine.dispose()
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))


IGNORED_COLUMNS = {"last_used_at"}  # API tokens note when they were last used: reading is not writing


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of every table (minus bookkeeping columns), to prove that a refused request wrote nothing."""
    session.expire_all()
    rows: dict[str, list[tuple]] = {}
    with session.bind.connect() as conn:  # type: ignore[union-attr]
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in IGNORED_COLUMNS]
            result = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in result]
    return rows


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))
