"""Payouts of funded projects to their recipients: requested -> approved -> exported (SEPA pain.001).

The amount is what the ledger holds for the project: paid pledges + realised matches - refunds - fees
(- earlier payouts). Approval locks the project and its pledges (so no refund is in flight), checks the
amount the approver saw, and writes the ledger's negative `payout` line; `refunds.payout_approved` finds that
line and refuses every refund of the project from then on."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.receipts import Payout, PayoutExport
from crowdfund.services import ledger
from crowdfund.services.audit import record_change

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: Mapping[str, tuple[frozenset[str], str]] = MappingProxyType({
    "approve": (frozenset({"requested"}), "approved"),
    "export": (frozenset({"approved"}), "exported"),
})


class PayoutRefused(Exception):
    """A payout step that must not happen; `code`: not_funded, nothing, open, iban, bic, four_eyes, changed,
    status, none_approved."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class Debtor:
    """The platform's own account that the transfers are paid from."""

    name: str
    iban: str
    bic: str = ""


def clean_iban(raw: str) -> str:
    """Validate an IBAN (country format and check digits) and return it in compact form."""
    try:
        return IBAN(raw).compact
    except SchwiftyException as error:
        raise PayoutRefused("iban", str(error)) from None


def clean_bic(raw: str) -> str:
    """Validate an optional BIC; an empty one stays empty (SEPA transfers need none)."""
    if not raw.strip():
        return ""
    try:
        return str(BIC(raw.strip()))
    except SchwiftyException as error:
        raise PayoutRefused("bic", str(error)) from None


def payable_cents(session: Session, project_id: int) -> int:
    """Return what may be paid out now: the sum of the project's ledger lines."""
    return ledger.project_balance(session, project_id)


def move(session: Session, payout: Payout, action: str, *, actor_id: int | None, reason: str = "") -> bool:
    """Apply a transition; a repeat is a no-op (False), anything unlisted raises, each change is audited."""
    sources, target = TRANSITIONS[action]
    if payout.status == target:
        return False
    if payout.status not in sources:
        raise PayoutRefused("status", f"payout {payout.id} is {payout.status}; cannot {action}")
    record_change(session, entity_type="payout", entity_id=payout.id, action=action, actor_id=actor_id,
                  from_state=payout.status, to_state=target, reason=reason or None)
    payout.status = target
    return True


def request_payout(session: Session, project_id: int, *, iban: str, bic: str, recipient_name: str,
                   actor_id: int | None) -> Payout:
    """Ask for the payout of a funded project's money to the recipient's (validated) account."""
    project = session.get(Project, project_id)
    if project is None or project.state != "funded":
        raise PayoutRefused("not_funded", f"project {project_id} is not funded")
    open_request = select(Payout.id).where(Payout.project_id == project_id, Payout.status == "requested")
    if session.scalar(open_request) is not None:
        raise PayoutRefused("open", f"project {project_id} has a payout waiting for approval")
    amount = payable_cents(session, project_id)
    if amount <= 0:
        raise PayoutRefused("nothing", f"project {project_id} holds {amount} cents")
    payout = Payout(project_id=project_id, amount_cents=amount, currency=project.currency, iban=clean_iban(iban),
                    bic=clean_bic(bic), recipient_name=(recipient_name or project.recipient_name).strip()[:160],
                    status="requested", requested_by_id=actor_id)
    if not payout.recipient_name:
        raise PayoutRefused("iban", "the recipient's name is missing")
    session.add(payout)
    session.flush()
    record_change(session, entity_type="payout", entity_id=payout.id, action="request", actor_id=actor_id,
                  to_state="requested", reason=f"{amount} cents")
    return payout


def approve_payout(session: Session, payout_id: int, *, expected_cents: int, actor_id: int,
                   four_eyes: bool = True) -> Payout:
    """Approve a requested payout of exactly `expected_cents` (what the approver saw) and book it."""
    payout = session.scalars(select(Payout).where(Payout.id == payout_id).with_for_update()
                             .execution_options(populate_existing=True)).first()
    if payout is None:
        raise PayoutRefused("status", f"no payout {payout_id}")
    if payout.status != "requested":
        move(session, payout, "approve", actor_id=actor_id)  # a repeat returns; anything else raises
        return payout
    if four_eyes and payout.requested_by_id == actor_id:
        raise PayoutRefused("four_eyes", "the payout must be approved by someone other than who requested it")
    session.execute(select(Project.id).where(Project.id == payout.project_id).with_for_update())
    session.execute(select(Pledge.id).where(Pledge.project_id == payout.project_id).order_by(Pledge.id)
                    .with_for_update())  # waits for refunds in flight; later ones see the payout line
    amount = payable_cents(session, payout.project_id)
    if amount != expected_cents or amount <= 0:
        raise PayoutRefused("changed", f"the project now holds {amount} cents, not {expected_cents}")
    entry = ledger.post_entry(session, kind="payout", amount_cents=-amount, project_id=payout.project_id,
                              provider_ref=None, idempotency_key=f"payout-{payout.id}", actor_id=actor_id,
                              currency=payout.currency, note=f"payout {payout.id} to {payout.iban}")
    payout.amount_cents, payout.ledger_entry_id = amount, entry.id
    payout.approved_by_id, payout.approved_at = actor_id, utcnow()
    move(session, payout, "approve", actor_id=actor_id, reason=f"{amount} cents")
    return payout


def export_payouts(session: Session, debtor: Debtor, *, actor_id: int | None, execution_date: date,
                   approved_from: date | None = None, approved_to: date | None = None) -> PayoutExport:
    """Write every approved payout (optionally approved in a date range, UTC) into one pain.001 credit transfer
    file, validated against its XSD, store the file and mark the payouts exported."""
    stmt = select(Payout).where(Payout.status == "approved").order_by(Payout.id).with_for_update()
    payouts = [p for p in session.scalars(stmt) if _approved_within(p, approved_from, approved_to)]
    if not payouts:
        raise PayoutRefused("none_approved", "no approved payout is waiting for export")
    transfer = SepaTransfer(_debtor_config(debtor), schema="pain.001.001.03", clean=True)
    for payout in payouts:
        transfer.add_payment(_payment(payout, execution_date))
    xml = transfer.export(validate=True)
    export = PayoutExport(message_id=transfer.msg_id, xml=xml, sha256=hashlib.sha256(xml).hexdigest(),
                          total_cents=sum(p.amount_cents for p in payouts), count=len(payouts),
                          created_by_id=actor_id)
    session.add(export)
    session.flush()
    for payout in payouts:
        move(session, payout, "export", actor_id=actor_id, reason=export.message_id)
        payout.export_id, payout.exported_at = export.id, utcnow()
    return export


def _approved_within(payout: Payout, start: date | None, end: date | None) -> bool:
    day = payout.approved_at.date() if payout.approved_at else None
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


def _debtor_config(debtor: Debtor) -> dict[str, object]:
    config: dict[str, object] = {"name": debtor.name, "IBAN": clean_iban(debtor.iban), "batch": True,
                                 "currency": "EUR"}
    if debtor.bic:
        config["BIC"] = clean_bic(debtor.bic)
    return config


def _payment(payout: Payout, execution_date: date) -> dict[str, object]:
    payment: dict[str, object] = {
        "name": payout.recipient_name, "IBAN": payout.iban, "amount": payout.amount_cents,
        "execution_date": execution_date, "endtoend_id": f"PAYOUT-{payout.id}",
        "description": f"Crowdfunding Kassel Auszahlung {payout.project.title}"[:140]}
    if payout.bic:
        payment["BIC"] = payout.bic
    return payment


def stored_export(session: Session, export_id: int) -> PayoutExport | None:
    """Return a SEPA file as it was handed out."""
    return session.get(PayoutExport, export_id)
