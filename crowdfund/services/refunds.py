"""Refunds of paid pledges by finance or admins, in full or in part: the provider first, then the ledger.

Each refund of a pledge has a sequence number (1, 2, ...) chosen when the form is shown; the provider's
idempotency key and the ledger line's key are derived from the pledge id and that number. Sending the same
form twice therefore refunds once, and a form shown before another refund was made is refused as stale.
Our own checks come first: localstripe accepts refunds beyond what was paid.

A refund shrinks the pledge's realised match in proportion (a full refund reverses it): a negative `match`
line on the ledger in the same transaction, the pot's remaining budget restored by as much
(`matching.reverse_match_after_refund`; rounding: the match keeps whole cents rounded down)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.domain.pledges import PledgeAction, PledgeStatus, idempotency_key
from crowdfund.models.ledger import LedgerEntry
from crowdfund.services import charges, ledger, matching
from crowdfund.services.charges import Notice
from crowdfund.services.ledger import payout_approved
from crowdfund.services.pledge_state import apply_pledge_action
from payments.gateway import InvalidRequest, PaymentGateway

__all__ = ["RefundDone", "RefundRefused", "next_sequence", "payout_approved", "refund_pledge", "refundable_cents"]
REFUNDABLE = (PledgeStatus.PAID.value, PledgeStatus.PARTIALLY_REFUNDED.value)


class RefundRefused(Exception):
    """A refund that must not happen; `code` says why (not_paid, amount, payout, stale, provider)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class RefundDone:
    entry: LedgerEntry
    notices: list[Notice]
    repeated: bool = False


def refundable_cents(pledge_paid_cents: int, pledge_refunded_cents: int) -> int:
    """Return what may still be refunded of a pledge: what was paid less what was refunded."""
    return max(0, pledge_paid_cents - pledge_refunded_cents)


def next_sequence(session: Session, pledge_id: int) -> int:
    """Return the sequence number the next refund of this pledge gets."""
    return ledger.refund_count(session, pledge_id) + 1


def refund_pledge(session: Session, gateway: PaymentGateway, pledge_id: int, *, amount_cents: int | None,
                  sequence: int, actor_id: int | None, note: str = "") -> RefundDone:
    """Refund `amount_cents` (None: all that is left) of a paid pledge; the caller commits.

    The pledge's row stays locked through the provider call, so two refunds of one pledge never overlap.
    A repeat of a sequence already booked returns its line without calling the provider again."""
    pledge = charges.lock_pledge(session, pledge_id)
    key = idempotency_key(pledge.id, "refund", sequence)
    booked = session.scalars(select(LedgerEntry).where(LedgerEntry.idempotency_key == key)).first()
    if booked is not None:
        return RefundDone(booked, [], repeated=True)
    amount = _check(session, pledge.id, pledge.status, pledge.project_id, sequence,
                    refundable_cents(pledge.paid_cents, pledge.refunded_cents), amount_cents)
    try:
        refund = gateway.refund(payment_intent_id=pledge.payment_intent_id or "", amount_cents=amount,
                                idempotency_key=key, metadata={"pledge_id": str(pledge.id), "refund": str(sequence)},
                                reason="requested_by_customer")
    except InvalidRequest as error:
        raise RefundRefused("provider", str(error)) from error
    if refund.status in ("failed", "canceled"):
        raise RefundRefused("provider", f"the provider reports the refund {refund.id} as {refund.status}")
    entry = ledger.post_entry(session, kind="refund", amount_cents=-refund.amount_cents, project_id=pledge.project_id,
                              pledge_id=pledge.id, provider_ref=refund.id, idempotency_key=key, actor_id=actor_id,
                              currency=pledge.currency, note=note or f"refund {sequence} ({refund.status})")
    pledge.refunded_cents += refund.amount_cents
    action = PledgeAction.REFUND_ALL if pledge.refunded_cents >= pledge.paid_cents else PledgeAction.REFUND_PART
    apply_pledge_action(session, pledge, action, actor_id=actor_id, reason=f"{refund.id}: {refund.amount_cents} cents")
    matching.reverse_match_after_refund(session, pledge, key=f"{key}-match", actor_id=actor_id)
    return RefundDone(entry, [charges.notice("refund_made", pledge, refund.amount_cents)])


def _check(session: Session, pledge_id: int, status: str, project_id: int, sequence: int, left: int,
           amount_cents: int | None) -> int:
    if status not in REFUNDABLE or left <= 0:
        raise RefundRefused("not_paid", f"pledge {pledge_id} is {status}")
    if payout_approved(session, project_id):
        raise RefundRefused("payout", f"the payout of project {project_id} is approved")
    if sequence != next_sequence(session, pledge_id):
        raise RefundRefused("stale", f"refund {sequence} of pledge {pledge_id} is not the next one")
    amount = left if amount_cents is None else amount_cents
    if not 0 < amount <= left:
        raise RefundRefused("amount", f"{amount} cents asked, {left} cents refundable")
    return amount
