"""The append-only ledger of money movements: lines are inserted once (by idempotency key), never changed.

Signs: money the platform received is positive (charge, match), money it gave back or paid out is
negative (refund, payout, fee). A match line is negative when a refund books (part of) a match back to its
pot. Every balance is a sum over the lines; nothing keeps a running total."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crowdfund.models.ledger import LedgerEntry

KINDS = frozenset({"charge", "fee", "refund", "match", "payout"})
NEGATIVE_KINDS = frozenset({"fee", "refund", "payout"})
SIGNED_KINDS = frozenset({"match"})  # negative: a match reversed after its pledge's refund


class LedgerConflict(ValueError):
    """An idempotency key that is already used by a line with other content."""


def post_entry(session: Session, *, kind: str, amount_cents: int, project_id: int, pledge_id: int | None = None,
               pot_id: int | None = None, provider_ref: str | None, idempotency_key: str, actor_id: int | None,
               note: str = "", currency: str = "EUR") -> LedgerEntry:
    """Append one line; a repeat with the same idempotency key returns the line already there.

    Safe under concurrency: the insert does nothing on a key conflict (ON CONFLICT DO NOTHING), so two
    writers of the same line end with one row. A repeat with another kind, amount or pledge raises."""
    _check_sign(kind, amount_cents)
    values = {"kind": kind, "amount_cents": amount_cents, "currency": currency.upper(), "project_id": project_id,
              "pledge_id": pledge_id, "pot_id": pot_id, "provider_ref": provider_ref,
              "idempotency_key": idempotency_key, "note": note, "created_by_id": actor_id}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(LedgerEntry).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(LedgerEntry)
    session.flush()  # the pledge, project or pot it names may be pending
    entry = session.scalars(stmt, [values]).first()
    if entry is None:  # the key is taken: return that line
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key)).one()
    if (entry.kind, entry.amount_cents, entry.project_id, entry.pledge_id) != (kind, amount_cents, project_id,
                                                                               pledge_id):
        raise LedgerConflict(f"ledger key {idempotency_key!r} already names another movement")
    return entry


def _check_sign(kind: str, amount_cents: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if amount_cents == 0 or (kind not in SIGNED_KINDS and (amount_cents < 0) != (kind in NEGATIVE_KINDS)):
        raise ValueError(f"a {kind} line cannot carry {amount_cents} cents")


def project_balance(session: Session, project_id: int) -> int:
    """Return what the platform holds for a project: the sum of all its lines."""
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(LedgerEntry.project_id == project_id)
    return int(session.scalar(stmt) or 0)


def project_totals(session: Session, project_id: int) -> dict[str, int]:
    """Return the sum of a project's lines per kind (kinds without lines are left out)."""
    stmt = (select(LedgerEntry.kind, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.project_id == project_id).group_by(LedgerEntry.kind))
    return {kind: int(total) for kind, total in session.execute(stmt)}


def pledge_totals(session: Session, pledge_id: int) -> dict[str, int]:
    """Return the sum of a pledge's lines per kind."""
    stmt = (select(LedgerEntry.kind, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.pledge_id == pledge_id).group_by(LedgerEntry.kind))
    return {kind: int(total) for kind, total in session.execute(stmt)}


def pot_total(session: Session, pot_id: int) -> int:
    """Return the money a matching pot has really given: the sum of its match lines."""
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.pot_id == pot_id, LedgerEntry.kind == "match")
    return int(session.scalar(stmt) or 0)


def refund_count(session: Session, pledge_id: int) -> int:
    """Return how many refunds of a pledge the ledger holds (the next refund's sequence is one more)."""
    stmt = select(func.count(LedgerEntry.id)).where(LedgerEntry.pledge_id == pledge_id, LedgerEntry.kind == "refund")
    return int(session.scalar(stmt) or 0)


def payout_approved(session: Session, project_id: int) -> bool:
    """Tell whether a payout for the project is on the ledger (the hook for the finance payouts to come).

    Refunds stop once the money is on its way to the project."""
    stmt = select(LedgerEntry.id).where(LedgerEntry.project_id == project_id, LedgerEntry.kind == "payout").limit(1)
    return session.scalar(stmt) is not None
