"""Reconciliation: the ledger's charge and refund lines of a period against the payment provider's records.

Differences found:
- `missing_at_provider`: a ledger line whose PaymentIntent or refund the provider does not know;
- `amount_mismatch` / `status_mismatch`: the provider's amount or status differs from the line;
- `missing_locally`: a PaymentIntent that collected money (succeeded) for one of our pledges without a
  charge line. The provider is asked per pledge (`find_payment_intents` by `metadata.pledge_id`) for every
  pledge with a payment attempt or a ledger line in the period;
- `unchecked`: the provider could not be reached for this item (nothing is concluded).
The gateway port cannot list refunds, so a refund made at the provider's dashboard without our ledger line is
found only if it makes the PaymentIntent's own figures differ; that needs a `list_refunds` in the port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.payments import PaymentAttempt
from crowdfund.services.finance import Period
from payments.gateway import InvalidRequest, PaymentError, PaymentGateway

COLLECTED = "succeeded"


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_locally | missing_at_provider | amount_mismatch | status_mismatch | unchecked
    object_id: str  # the provider's id (pi_..., re_...)
    pledge_id: int | None
    entry_id: int | None
    ledger_cents: int | None
    provider_cents: int | None
    detail: str = ""


@dataclass
class Reconciliation:
    checked_lines: int = 0
    checked_pledges: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences


def reconcile(session: Session, gateway: PaymentGateway, period: Period,
              on_item: Callable[[], None] | None = None) -> Reconciliation:
    """Compare the period's charge and refund lines with the provider and list every difference."""
    result = Reconciliation()
    lines = list(session.scalars(select(LedgerEntry).where(LedgerEntry.kind.in_(("charge", "refund")),
                                                           *period.clause(LedgerEntry.created_at))
                                 .order_by(LedgerEntry.id)))
    for entry in lines:
        _check_line(gateway, entry, result)
        result.checked_lines += 1
        if on_item is not None:
            on_item()
    for pledge_id in _pledges_of(session, period):
        _check_pledge(session, gateway, pledge_id, result)
        result.checked_pledges += 1
    return result


def _check_line(gateway: PaymentGateway, entry: LedgerEntry, result: Reconciliation) -> None:
    ref = entry.provider_ref or ""
    try:
        info = gateway.retrieve_payment_intent(ref) if entry.kind == "charge" else gateway.retrieve_refund(ref)
    except InvalidRequest as error:
        result.differences.append(_diff("missing_at_provider", ref, entry, None, str(error)))
        return
    except PaymentError as error:
        result.differences.append(_diff("unchecked", ref, entry, None, str(error)))
        return
    wanted = abs(entry.amount_cents)
    if info.amount_cents != wanted:
        result.differences.append(_diff("amount_mismatch", ref, entry, info.amount_cents,
                                        f"ledger {wanted}, provider {info.amount_cents}"))
    elif info.status not in (COLLECTED, "pending") or (entry.kind == "charge" and info.status != COLLECTED):
        result.differences.append(_diff("status_mismatch", ref, entry, info.amount_cents,
                                        f"the provider reports {info.status}"))


def _diff(kind: str, ref: str, entry: LedgerEntry, provider_cents: int | None, detail: str) -> Difference:
    return Difference(kind, ref, entry.pledge_id, entry.id, abs(entry.amount_cents), provider_cents, detail)


def _pledges_of(session: Session, period: Period) -> list[int]:
    attempts = select(PaymentAttempt.pledge_id.label("pledge_id")).where(*period.clause(PaymentAttempt.created_at))
    lines = select(LedgerEntry.pledge_id.label("pledge_id")).where(LedgerEntry.pledge_id.is_not(None),
                                                                   *period.clause(LedgerEntry.created_at))
    return sorted(session.scalars(select(union(attempts, lines).subquery().c.pledge_id)))


def _check_pledge(session: Session, gateway: PaymentGateway, pledge_id: int, result: Reconciliation) -> None:
    try:
        intents = gateway.find_payment_intents(metadata_key="pledge_id", metadata_value=str(pledge_id))
    except PaymentError as error:
        result.differences.append(Difference("unchecked", f"pledge {pledge_id}", pledge_id, None, None, None,
                                             str(error)))
        return
    booked = set(session.scalars(select(LedgerEntry.provider_ref).where(LedgerEntry.pledge_id == pledge_id,
                                                                        LedgerEntry.kind == "charge")))
    for info in intents:
        if info.status == COLLECTED and info.id not in booked:
            result.differences.append(Difference("missing_locally", info.id, pledge_id, None, None,
                                                 info.amount_cents, "collected at the provider, not in the ledger"))
