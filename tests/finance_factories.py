"""Test data for receipts and finance: paid pledges (charged through settlement with the FakeGateway),
refunds, receipts issued with the fast fake renderer, and a payout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NamedTuple

from flask import Flask
from sqlalchemy.orm import Session

from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import DonationProfile, ReceiptAddress
from crowdfund.models.users import User
from crowdfund.services import receipts
from crowdfund.services.receipt_content import ReceiptSettings
from crowdfund.services.refunds import next_sequence, refund_pledge
from crowdfund.services.settlement import settle
from payments.fake import FakeGateway
from receipts.fake_pdf import render_fake_receipt_pdf
from tests.factories import CampaignWorld, make_active_pledge, make_campaign_world, make_due_campaign, make_user

SETTINGS = ReceiptSettings(issuer_mode="platform", prefix="KS", issuer_name="Crowdfunding Kassel",
                           issuer_address=("Kurfürstenstraße 9", "34117 Kassel"))
TODAY = date(2026, 3, 2)


class PaidWorld(NamedTuple):
    world: CampaignWorld
    project: Project
    pledges: list[Pledge]


def make_paid_project(app: Flask, session: Session, fake: FakeGateway, amounts: list[int], *,
                      backers: list[User] | None = None, world: CampaignWorld | None = None,
                      tax_privileged: bool = False, title: str = "Reparaturstation") -> PaidWorld:
    """A funded project whose pledges of `amounts` cents were charged by settlement."""
    world = world or make_campaign_world(session)
    project = make_due_campaign(session, world, threshold_cents=100)
    project.title, project.recipient_name = title, "Verein Nachbarschaft e. V."
    project.recipient_address, project.recipient_tax_privileged = "Königsplatz 1\n34117 Kassel", tax_privileged
    session.commit()
    backers = backers or [make_user(session, name=f"Backer {i}") for i in range(len(amounts))]
    pledges = [make_active_pledge(session, project, backer, amount, fake) for backer, amount in zip(backers, amounts,
                                                                                                   strict=True)]
    settle(app.extensions["db_sessionmaker"], fake, now=datetime.now(UTC), fix_window_days=7, notify=lambda n: None)
    session.expire_all()
    paid = [session.get(Pledge, p.id) for p in pledges]
    assert all(p is not None and p.status == "paid" for p in paid), [p.status for p in paid if p]
    session.refresh(project)
    return PaidWorld(world, project, paid)  # type: ignore[arg-type]


def refund(session: Session, fake: FakeGateway, pledge: Pledge, amount_cents: int | None) -> int:
    """Refund (part of) a paid pledge; return the refund's ledger entry id."""
    sequence = next_sequence(session, pledge.id)
    done = refund_pledge(session, fake, pledge.id, amount_cents=amount_cents, sequence=sequence, actor_id=None)
    session.commit()
    return done.entry.id


def issue_all(app: Flask, renderer: receipts.Renderer = render_fake_receipt_pdf,
              settings: ReceiptSettings = SETTINGS, today: date = TODAY) -> receipts.IssueReport:
    """Issue every due receipt with the fake renderer (fast) unless another is given."""
    return receipts.issue_receipts_pending(app.extensions["db_sessionmaker"], renderer, settings, today=today)


def give_address(session: Session, user: User, name: str = "Bea Backer",
                 address: str = "Wilhelmshöher Allee 73\n34121 Kassel") -> None:
    session.add(ReceiptAddress(user_id=user.id, name=name, address=address))
    session.commit()


def give_donation_profile(session: Session, project: Project) -> None:
    session.add(DonationProfile(project_id=project.id, purpose="des Umweltschutzes", tax_office="Kassel-Hofgeismar",
                                tax_number="026 250 12345", notice_date=date(2025, 2, 14), place="Kassel",
                                signatory="Vera Vorstand"))
    session.commit()
