"""Payouts: the project's balance to a validated IBAN, approved by a second person, booked on the ledger
(after which refunds are refused), exported as a pain.001 file that is valid against its schema."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sepaxml
import xmlschema
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.receipts import Payout
from crowdfund.services import ledger, payouts
from crowdfund.services.payouts import Debtor, PayoutRefused
from crowdfund.services.refunds import RefundRefused, payout_approved
from payments.fake import FakeGateway
from tests.factories import make_user
from tests.finance_factories import make_paid_project, refund

IBAN = "DE02 1203 0000 0000 2020 51"
DEBTOR = Debtor("Crowdfunding Kassel", "DE89370400440532013000", "COBADEFFXXX")
PAIN_001 = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def funded(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000, 2_500])
    paid.project.state = "funded"
    session.commit()
    return paid


@pytest.fixture
def staff(session):
    return make_user(session, Role.FINANCE, name="Requester"), make_user(session, Role.FINANCE, name="Approver")


def request(session, funded, staff, iban: str = IBAN, bic: str = "") -> Payout:
    payout = payouts.request_payout(session, funded.project.id, iban=iban, bic=bic, recipient_name="",
                                    actor_id=staff[0].id)
    session.commit()
    return payout


def approve(session, payout: Payout, approver, expected: int | None = None) -> Payout:
    done = payouts.approve_payout(session, payout.id, expected_cents=expected or payout.amount_cents,
                                  actor_id=approver.id)
    session.commit()
    return done


def test_a_payout_is_what_the_project_holds_to_the_recipient_s_compact_iban(session, funded, staff, fake):
    refund(session, fake, funded.pledges[1], 500)

    payout = request(session, funded, staff)

    assert payout.amount_cents == 5_000 + 2_500 - 500
    assert payout.iban == "DE02120300000000202051" and payout.recipient_name == "Verein Nachbarschaft e. V."
    assert payout.status == "requested"


@pytest.mark.parametrize("iban", ["DE02 1203 0000 0000 2020 52", "XX00", "DE0212030000000020205"])
def test_an_invalid_iban_is_refused(session, funded, staff, iban):
    with pytest.raises(PayoutRefused) as refused:
        request(session, funded, staff, iban=iban)
    assert refused.value.code == "iban"


def test_an_invalid_bic_is_refused(session, funded, staff):
    with pytest.raises(PayoutRefused) as refused:
        request(session, funded, staff, bic="ABCDXXFF")
    assert refused.value.code == "bic"


def test_only_funded_projects_are_paid_out(session, funded, staff):
    funded.project.state = "live"
    session.commit()

    with pytest.raises(PayoutRefused) as refused:
        request(session, funded, staff)
    assert refused.value.code == "not_funded"


def test_approval_writes_the_negative_payout_line_that_the_refunds_look_for(session, funded, staff):
    payout = approve(session, request(session, funded, staff), staff[1])

    line = session.get(LedgerEntry, payout.ledger_entry_id)
    assert (line.kind, line.amount_cents, line.project_id) == ("payout", -7_500, funded.project.id)
    assert line.idempotency_key == f"payout-{payout.id}"
    assert payout_approved(session, funded.project.id)
    assert ledger.project_balance(session, funded.project.id) == 0
    assert (payout.status, payout.approved_by_id) == ("approved", staff[1].id)
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "payout")).all() == [
        "request", "approve"]


def test_after_the_payout_refunds_of_the_project_are_refused(session, funded, staff, fake):
    approve(session, request(session, funded, staff), staff[1])

    with pytest.raises(RefundRefused) as refused:
        refund(session, fake, funded.pledges[0], 100)
    assert refused.value.code == "payout"
    assert fake.refunds == {}


def test_the_requester_cannot_approve_their_own_payout(session, funded, staff):
    payout = request(session, funded, staff)

    with pytest.raises(PayoutRefused) as refused:
        approve(session, payout, staff[0])
    assert refused.value.code == "four_eyes"


def test_an_approval_of_an_amount_that_changed_meanwhile_is_refused(session, funded, staff, fake):
    payout = request(session, funded, staff)
    refund(session, fake, funded.pledges[0], 1_000)

    with pytest.raises(PayoutRefused) as refused:
        approve(session, payout, staff[1], expected=7_500)
    session.rollback()
    assert refused.value.code == "changed"
    assert approve(session, payout, staff[1], expected=6_500).amount_cents == 6_500


def test_approving_twice_books_once(session, funded, staff):
    payout = approve(session, request(session, funded, staff), staff[1])
    again = approve(session, payout, staff[1])

    assert again.ledger_entry_id == payout.ledger_entry_id
    assert len(session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "payout")).all()) == 1


def test_nothing_to_pay_out_is_refused(session, funded, staff, fake):
    for pledge in funded.pledges:
        refund(session, fake, pledge, None)

    with pytest.raises(PayoutRefused) as refused:
        request(session, funded, staff)
    assert refused.value.code == "nothing"


def test_the_sepa_file_is_valid_pain_001_and_marks_the_payouts_exported(session, funded, staff):
    approve(session, request(session, funded, staff, bic="BYLADEM1001"), staff[1])

    export = payouts.export_payouts(session, DEBTOR, actor_id=staff[1].id, execution_date=date(2026, 3, 5))
    session.commit()

    xmlschema.XMLSchema(str(PAIN_001)).validate(export.xml.decode())
    root = ElementTree.fromstring(export.xml)  # noqa: S314 (our own output)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert root.find(".//p:GrpHdr/p:NbOfTxs", ns).text == "1"
    assert root.find(".//p:GrpHdr/p:CtrlSum", ns).text == "75.00"
    assert root.find(".//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN", ns).text == "DE02120300000000202051"
    assert root.find(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", ns).text.startswith("PAYOUT-")
    assert export.sha256 == hashlib.sha256(export.xml).hexdigest()
    assert {p.status for p in session.scalars(select(Payout))} == {"exported"}


def test_a_second_export_finds_nothing_left(session, funded, staff):
    approve(session, request(session, funded, staff), staff[1])
    payouts.export_payouts(session, DEBTOR, actor_id=None, execution_date=date(2026, 3, 5))
    session.commit()

    with pytest.raises(PayoutRefused) as refused:
        payouts.export_payouts(session, DEBTOR, actor_id=None, execution_date=date(2026, 3, 5))
    assert refused.value.code == "none_approved"


def test_a_requested_payout_is_not_exported(session, funded, staff):
    request(session, funded, staff)

    with pytest.raises(PayoutRefused):
        payouts.export_payouts(session, DEBTOR, actor_id=None, execution_date=date(2026, 3, 5))


@pytest.mark.parametrize(("status", "action", "allowed"), [
    ("requested", "approve", True), ("requested", "export", False),
    ("approved", "approve", None), ("approved", "export", True),
    ("exported", "approve", False), ("exported", "export", None),
])
def test_the_payout_transition_table(session, status, action, allowed):
    payout = Payout(id=1, status=status)
    if allowed is False:
        with pytest.raises(PayoutRefused):
            payouts.move(session, payout, action, actor_id=None)
        return
    changed = payouts.move(session, payout, action, actor_id=None)
    assert changed is bool(allowed)
    assert payout.status == payouts.TRANSITIONS[action][1]
