"""GDPR: the data export holds all of a person's data and nothing of anyone else's; deleting an account
pseudonymises the person and keeps pledges, receipts and ledger entries untouched for the retention period."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.models.receipts import Receipt, ReceiptAddress
from crowdfund.models.users import ApiToken, User
from crowdfund.services import accounts, privacy
from tests.factories import (
    PASSWORD,
    make_api_token,
    make_campaign,
    make_pledge,
    make_pledge_world,
    make_user,
)
from tests.services.test_jury_world import make_jury_world, score

NOW = datetime.now(UTC)
PDF = b"%PDF-1.7 stored once, never changed"


def make_paid_pledge_with_books(session, project, backer, amount_cents: int = 5_000) -> tuple[Pledge, Receipt]:
    """A paid pledge with its ledger line and its issued receipt (stored PDF bytes)."""
    pledge = make_pledge(session, project, backer, amount_cents, status="paid")
    pledge.paid_cents, pledge.paid_at = amount_cents, NOW
    session.add(LedgerEntry(kind="charge", amount_cents=amount_cents, project_id=project.id, pledge_id=pledge.id,
                            provider_ref=f"pi_{pledge.id}", idempotency_key=f"charge-{pledge.id}"))
    receipt = Receipt(number=f"KS-2026-{pledge.id:06d}", issuer_key="platform", year=2026, sequence=pledge.id,
                      kind="payment_confirmation", status="issued", source_key=f"pledge-{pledge.id}",
                      pledge_id=pledge.id, backer_id=backer.id, project_id=project.id, amount_cents=amount_cents,
                      issue_date=date(2026, 3, 2), content={"backer": {"name": backer.name}}, pdf=PDF,
                      sha256=hashlib.sha256(PDF).hexdigest(), size_bytes=len(PDF), issued_at=NOW,
                      retention_until=date(2036, 12, 31))
    session.add(receipt)
    session.commit()
    return pledge, receipt


@pytest.fixture
def world(session):
    """Two backers of one live campaign (one with a paid pledge elsewhere), each with a token."""
    world, project, reward, bea = make_pledge_world(session)
    other = make_user(session, name="Otto Other", email="otto@example.org")
    ended = make_campaign(session, initiator=world.initiator, contest=world.contest, district=world.district,
                          state="funded", deadline=NOW - timedelta(days=1))
    bea_open = make_pledge(session, project, bea, 2_500, reward=reward)
    reward.quantity_claimed = 1
    paid, receipt = make_paid_pledge_with_books(session, ended, bea)
    otto_pledge = make_pledge(session, project, other, 7_700)
    make_paid_pledge_with_books(session, ended, other, 9_900)
    make_api_token(session, bea, "bea's laptop")
    make_api_token(session, other, "otto's script")
    return {"project": project, "reward": reward, "bea": bea, "otto": other, "bea_open": bea_open, "paid": paid,
            "receipt": receipt, "otto_pledge": otto_pledge, "world": world}


def export(session, user) -> dict:
    data = privacy.export_user_data(session, user, now=NOW)
    return json.loads(json.dumps(data))  # the export must be plain JSON


# -- export -------------------------------------------------------------------------------------------------
def test_the_export_holds_the_persons_profile_roles_tokens_pledges_and_receipts(session, world):
    bea = world["bea"]
    data = export(session, bea)

    assert data["profile"]["email"] == bea.email and data["profile"]["name"] == "Bea Backer"
    assert data["roles"] == ["backer"]
    assert [t["name"] for t in data["api_tokens"]] == ["bea's laptop"]
    assert {p["id"] for p in data["pledges"]} == {world["bea_open"].id, world["paid"].id}
    open_pledge = next(p for p in data["pledges"] if p["id"] == world["bea_open"].id)
    assert open_pledge["amount_cents"] == 2_500 and open_pledge["reward"]["title"] == "Tote bag"
    assert open_pledge["project"]["slug"] == world["project"].slug
    assert [r["number"] for r in data["receipts"]] == [world["receipt"].number]
    assert data["receipts"][0]["download"] == f"/receipts/{world['receipt'].number}.pdf"
    assert any(a["entity_type"] == "user" and a["action"] == "registered" for a in data["audit_entries"])


def test_the_export_contains_nothing_of_other_users(session, world):
    text = json.dumps(export(session, world["bea"]))
    otto = world["otto"]
    assert otto.email not in text and "Otto Other" not in text and "otto's script" not in text
    assert world["otto_pledge"].id not in {p["id"] for p in export(session, world["bea"])["pledges"]}
    assert "7700" not in text and "9900" not in text


def test_the_export_never_contains_token_hashes_or_the_password_hash(session, world):
    text = json.dumps(export(session, world["bea"]))
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == world["bea"].id)).one()
    assert token.token_hash not in text
    assert world["bea"].password_hash not in text and "password_hash" not in text


def test_the_export_of_a_juror_holds_their_scorecards_and_conflicts_but_not_other_jurors(session):
    jury_world = make_jury_world(session, n_entries=2, n_jurors=2, conflicts=((0, 1),))
    juror, other = jury_world.jurors
    score(session, jury_world, juror, jury_world.entries[0], 8, 6, comment="Strong idea")
    score(session, jury_world, other, jury_world.entries[0], 3, 2, comment="Other juror's view")

    data = export(session, juror)

    assert data["roles"] == ["backer", "juror"]
    assert [c["slug"] for c in data["jury"]["contests"]] == [jury_world.contest.slug]
    assert [(c["project"]["title"], c["kind"]) for c in data["jury"]["conflicts"]] == [("Entry B", "collaborator")]
    assert [(s["project_id"], s["comment"], s["status"]) for s in data["jury"]["scorecards"]] == [
        (jury_world.entries[0].id, "Strong idea", "submitted")]
    text = json.dumps(data)
    assert "Other juror's view" not in text and other.email not in text


def test_the_export_of_an_initiator_holds_the_projects_they_initiated(session, world):
    data = export(session, world["world"].initiator)
    assert {p["slug"] for p in data["projects_initiated"]} >= {world["project"].slug}
    assert data["pledges"] == []


def test_audit_rows_by_others_do_not_say_who_acted(session, world):
    admin = make_user(session, Role.ADMIN, name="Anna Admin")
    accounts.set_roles(session, world["bea"], [Role.JUROR], actor_id=admin.id)
    session.commit()
    granted = [a for a in export(session, world["bea"])["audit_entries"] if a["action"] == "role_granted"]
    assert granted == [{**granted[0], "by_you": False}] and "actor_id" not in granted[0]


# -- deletion ---------------------------------------------------------------------------------------------
def delete(session, user: User) -> privacy.DeletionReport:
    report = privacy.delete_account(session, user, now=datetime.now(UTC))
    session.commit()
    session.expire_all()
    return report


def test_deleting_an_account_pseudonymises_the_person(session, world):
    bea = world["bea"]
    old_email, old_hash = bea.email, bea.password_hash
    accounts.set_locale(session, bea, "en")
    session.add(ReceiptAddress(user_id=bea.id, name="Bea Backer", address="Wilhelmshöher Allee 73\n34121 Kassel"))
    session.commit()

    delete(session, bea)

    assert bea.name == f"Gelöschte Person #{bea.id}"
    assert bea.email == f"deleted-{bea.id}@invalid"
    assert (bea.locale, bea.active) == (None, False)
    assert bea.password_hash != old_hash and bea.get_id() != f"{bea.id}:{old_hash[-12:]}"
    assert accounts.authenticate(session, old_email, PASSWORD) is None
    assert accounts.authenticate(session, bea.email, PASSWORD) is None
    assert session.scalar(select(func.count()).select_from(ReceiptAddress)) == 0
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "user",
                                                          AuditEntry.entity_id == bea.id)).all()[-1] == "pseudonymised"


def test_deleting_an_account_removes_its_tokens_and_roles(session, world):
    bea = world["bea"]
    raw = make_api_token(session, bea, "second")
    accounts.set_roles(session, bea, [Role.JUROR, Role.INITIATOR], actor_id=None)
    session.commit()

    delete(session, bea)

    assert accounts.user_for_api_token(session, raw) is None
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == bea.id)) == 0
    assert bea.roles == {Role.BACKER}
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == world["otto"].id)) == 1


def test_deleting_an_account_keeps_pledges_ledger_entries_and_receipts_unchanged(session, world):
    bea, receipt = world["bea"], world["receipt"]
    ledger_before = session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all()

    delete(session, bea)

    assert session.scalar(select(func.count()).select_from(Pledge).where(Pledge.backer_id == bea.id)) == 2
    assert session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all() == ledger_before
    kept = session.get(Receipt, receipt.id)
    assert (kept.backer_id, kept.pdf, kept.sha256) == (bea.id, PDF, hashlib.sha256(PDF).hexdigest())
    assert kept.content == {"backer": {"name": "Bea Backer"}}  # the document as issued: legal retention


def test_deleting_an_account_cancels_open_pledges_of_open_campaigns_and_keeps_the_rest(session, world):
    bea = world["bea"]
    late_campaign = make_campaign(session, initiator=world["world"].initiator, contest=world["world"].contest,
                                  district=world["world"].district, deadline=NOW - timedelta(hours=1))
    past_deadline = make_pledge(session, late_campaign, bea, 3_000)
    bea_open, paid = world["bea_open"], world["paid"]
    for pledge in (bea_open, paid):
        pledge.message = "Viel Erfolg, eure Bea"
    session.commit()

    report = delete(session, bea)

    assert report.cancelled_pledge_ids == (bea_open.id,)
    assert set(report.kept_pledge_ids) == {paid.id, past_deadline.id}
    assert (bea_open.status, paid.status, past_deadline.status) == ("cancelled", "paid", "active")
    assert world["reward"].quantity_claimed == 0  # the reward unit went back through the pledge service
    assert (bea_open.message, paid.message, paid.anonymous) == ("", "", True)
    assert world["otto_pledge"].status == "active"


def test_the_only_active_admin_cannot_delete_their_account(session):
    admin = make_user(session, Role.ADMIN, name="Anna Admin")
    with pytest.raises(privacy.SoleAdmin):
        privacy.delete_account(session, admin, now=NOW)
    session.rollback()
    assert privacy.is_sole_admin(session, admin)

    retired = make_user(session, Role.ADMIN, name="Rita Retired")
    retired.active = False
    session.commit()
    assert privacy.is_sole_admin(session, admin)  # an inactive admin does not count

    make_user(session, Role.ADMIN, name="Bert Admin")
    assert not privacy.is_sole_admin(session, admin)
    delete(session, admin)
    assert admin.active is False and admin.roles == {Role.BACKER}


def test_a_user_without_the_admin_role_is_never_the_sole_admin(session, world):
    assert not privacy.is_sole_admin(session, world["bea"])
