"""Set-based steps of settlement: claim a batch of pledges, and record a batch of provider answers, each in a
handful of statements instead of several per pledge.

Claim (one transaction, committed before any of the batch's calls): lock up to `batch_size` active pledges of
funded campaigns (FOR UPDATE SKIP LOCKED on PostgreSQL), take their charge locks in one statement, insert
their attempts (with idempotency keys) in one multi-row INSERT, move them to `charging` in one UPDATE and write
their audit rows in one INSERT.

Record (one transaction): lock the batch's pledges in id order; the common case (collected, pledge still
`charging`, attempt still open, no match to realise) is written set-based: attempts and pledges updated in one
statement each, ledger lines in one INSERT ... ON CONFLICT DO NOTHING, audit rows in one INSERT. Everything else
(SEPA processing, the backer needed, unknown outcomes, matches, repeats) goes through `charges.apply_outcome`
one pledge at a time, exactly as a webhook or the backer's page would apply it.

On PostgreSQL each of those statements takes the batch's values as arrays (`INSERT .. SELECT FROM unnest(..)`,
`UPDATE .. FROM unnest(..)`): no per-row parameters to bind or statements to run. SQLite gets the same steps as
executemany statements (insertmanyvalues)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.domain.pledges import PledgeAction, PledgeStatus, idempotency_key, next_status
from crowdfund.domain.projects import ProjectState
from crowdfund.models.audit import AuditEntry
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.matching import Match
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services import charges
from crowdfund.services.charge_locks import ChargeLocks
from crowdfund.services.charges import Applied, ChargeRequest, ChargeResult, Notice, Outcome
from crowdfund.services.ledger import LedgerConflict

_S = PledgeStatus
_PG_ATTEMPTS_NEW = text(
    "INSERT INTO payment_attempts (pledge_id, attempt_no, kind, idempotency_key, amount_cents, currency, status, "
    "created_at, updated_at) SELECT v.pledge_id, v.attempt_no, 'off_session', v.idempotency_key, v.amount_cents, "
    "v.currency, 'started', :now, :now FROM unnest(CAST(:pledge_id AS integer[]), CAST(:attempt_no AS integer[]), "
    "CAST(:idempotency_key AS varchar[]), CAST(:amount_cents AS integer[]), CAST(:currency AS varchar[])) "
    "AS v(pledge_id, attempt_no, idempotency_key, amount_cents, currency) RETURNING id, pledge_id")
_PG_AUDIT = text(
    "INSERT INTO audit_entries (entity_type, entity_id, action, from_state, to_state, reason, actor_id, created_at) "
    "SELECT 'pledge', v.id, :action, :before, :after, v.reason, NULL, :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:reasons AS text[])) AS v(id, reason)")
_PG_CHARGES = text(
    "INSERT INTO ledger_entries (kind, amount_cents, currency, project_id, pledge_id, pot_id, provider_ref, "
    "idempotency_key, note, created_by_id, created_at) SELECT 'charge', v.amount_cents, v.currency, v.project_id, "
    "v.pledge_id, NULL, v.provider_ref, v.idempotency_key, v.note, NULL, :now FROM unnest("
    "CAST(:amount_cents AS integer[]), CAST(:currency AS varchar[]), CAST(:project_id AS integer[]), "
    "CAST(:pledge_id AS integer[]), CAST(:provider_ref AS varchar[]), CAST(:idempotency_key AS varchar[]), "
    "CAST(:note AS text[])) AS v(amount_cents, currency, project_id, pledge_id, provider_ref, idempotency_key, note) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")
_PG_ATTEMPTS_PAID = text(
    "UPDATE payment_attempts AS a SET status = 'succeeded', payment_intent_id = v.pi, error_code = NULL, "
    "error_message = NULL, updated_at = :now FROM unnest(CAST(:ids AS integer[]), CAST(:pis AS varchar[])) "
    "AS v(id, pi) WHERE a.id = v.id")
_PG_PLEDGES_PAID = text(
    "UPDATE pledges AS p SET status = :status, payment_intent_id = v.pi, paid_cents = v.paid, paid_at = :now, "
    "updated_at = :now FROM unnest(CAST(:ids AS integer[]), CAST(:pis AS varchar[]), CAST(:paid AS integer[])) "
    "AS v(id, pi, paid) WHERE p.id = v.id")
_ATTEMPTS, _PLEDGES, _AUDIT, _LEDGER = (PaymentAttempt.__table__, Pledge.__table__, AuditEntry.__table__,
                                        LedgerEntry.__table__)


def claim_batch(session: Session, locks: ChargeLocks, batch_size: int, *, reason: str = "settlement") -> list[
        ChargeRequest]:
    """Claim up to `batch_size` active pledges of funded campaigns for charging; the caller commits, then
    sends. Pledges whose charge lock another worker holds are left alone."""
    stmt = (select(Pledge.id, Pledge.customer_id, Pledge.payment_method_id, Pledge.payment_method_type,
                   Pledge.amount_cents, Pledge.currency)
            .join(Project, Project.id == Pledge.project_id)
            .where(Pledge.status == _S.ACTIVE.value, Project.state == ProjectState.FUNDED.value)
            .order_by(Pledge.id).limit(batch_size).with_for_update(of=Pledge, skip_locked=True))
    rows = session.execute(stmt).all()
    held = locks.acquire_many([row.id for row in rows])
    rows = [row for row in rows if row.id in held]
    if not rows:
        return []
    ids = [row.id for row in rows]
    last = dict(session.execute(select(PaymentAttempt.pledge_id, func.max(PaymentAttempt.attempt_no))
                                .where(PaymentAttempt.pledge_id.in_(ids)).group_by(PaymentAttempt.pledge_id)).all())
    numbers = {pid: int(last.get(pid) or 0) + 1 for pid in ids}
    now = utcnow()
    attempts = [{"pledge_id": row.id, "attempt_no": numbers[row.id], "kind": "off_session", "status": "started",
                 "idempotency_key": idempotency_key(row.id, "charge", numbers[row.id]),
                 "amount_cents": row.amount_cents, "currency": row.currency, "created_at": now, "updated_at": now}
                for row in rows]
    if _postgres(session):  # one INSERT .. SELECT FROM unnest(arrays): no per-row parameters to bind
        inserted = session.execute(_PG_ATTEMPTS_NEW, {
            **{column: [a[column] for a in attempts] for column in ("pledge_id", "attempt_no", "idempotency_key",
                                                                     "amount_cents", "currency")},
            "now": now}).all()
    else:
        inserted = session.execute(insert(_ATTEMPTS).returning(_ATTEMPTS.c.id, _ATTEMPTS.c.pledge_id), attempts).all()
    attempt_ids = {pledge_id: attempt_id for attempt_id, pledge_id in inserted}
    before, after = _S.ACTIVE, next_status(_S.ACTIVE, PledgeAction.START_CHARGE)
    session.execute(update(_PLEDGES).where(_PLEDGES.c.id.in_(ids), _PLEDGES.c.status == before.value)
                    .values(status=after.value, updated_at=now))
    _audit(session, ids, PledgeAction.START_CHARGE, before, after, [reason] * len(ids), now)
    return [ChargeRequest(row.id, attempt_ids[row.id], numbers[row.id], "off_session", row.customer_id or "",
                          row.payment_method_id or "", row.payment_method_type or "card", row.amount_cents,
                          row.currency, idempotency_key(row.id, "charge", numbers[row.id])) for row in rows]


def _audit(session: Session, ids: list[int], action: PledgeAction, before: PledgeStatus, after: PledgeStatus,
           reasons: list[str | None], now: object) -> None:
    """Write one audit row per pledge (no actor: the settlement job) for the same change of each."""
    if not ids:
        return
    if _postgres(session):
        session.execute(_PG_AUDIT, {"ids": ids, "reasons": reasons, "action": action.value, "before": before.value,
                                    "after": after.value, "now": now})
        return
    session.execute(insert(_AUDIT), [
        {"entity_type": "pledge", "entity_id": pid, "action": action.value, "from_state": before.value,
         "to_state": after.value, "reason": reason, "actor_id": None, "created_at": now}
        for pid, reason in zip(ids, reasons, strict=True)])


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class _Row:
    """What recording needs of a locked pledge, its backer and its project."""

    id: int
    status: str
    project_id: int
    project_state: str
    project_title: str
    currency: str
    payment_method_type: str | None
    email: str
    name: str
    locale: str | None


def record_batch(session: Session, results: list[tuple[ChargeRequest, ChargeResult]],
                 unsent: list[ChargeRequest]) -> list[tuple[ChargeResult, Applied]]:
    """Record what the provider said about a batch (the caller commits, then mails); claimed attempts that were
    never sent are marked so, and a later run sends them without looking first."""
    ids = sorted({request.pledge_id for request, _result in results})
    rows = _lock(session, ids)
    attempts = {a.id: a for a in session.execute(select(
        PaymentAttempt.id, PaymentAttempt.status, PaymentAttempt.payment_intent_id, PaymentAttempt.amount_cents)
        .where(PaymentAttempt.id.in_([request.attempt_id for request, _result in results])))}
    matched = set(session.scalars(select(Match.pledge_id).where(Match.pledge_id.in_(ids)))) if ids else set()
    fast, slow = [], []
    for request, result in results:
        row, attempt = rows.get(request.pledge_id), attempts.get(request.attempt_id)
        simple = (row is not None and attempt is not None and result.outcome == Outcome.SUCCEEDED
                  and result.payment_intent_id is not None and row.status == _S.CHARGING
                  and row.project_state == ProjectState.FUNDED and request.pledge_id not in matched
                  and attempt.status in charges.OPEN_ATTEMPTS
                  and attempt.payment_intent_id in (None, result.payment_intent_id)
                  and (result.amount_cents if result.amount_cents is not None else attempt.amount_cents) > 0)
        (fast if simple else slow).append((request, result))
    applied = dict(_collect_all(session, rows, attempts, fast))
    if slow:
        pledges = charges.lock_pledges(session, sorted({request.pledge_id for request, _result in slow}))
        for request, result in slow:
            attempt = session.get(PaymentAttempt, request.attempt_id, populate_existing=True)
            assert attempt is not None
            applied[request.attempt_id] = charges.apply_outcome(session, pledges[request.pledge_id], attempt, result)
    if unsent:
        session.execute(update(_ATTEMPTS).where(_ATTEMPTS.c.id.in_([r.attempt_id for r in unsent]),
                                                _ATTEMPTS.c.status == "started")
                        .values(status=charges.NOT_SENT, updated_at=utcnow()))
    return [(result, applied[request.attempt_id]) for request, result in results]


def _lock(session: Session, ids: list[int]) -> dict[int, _Row]:
    """Lock the pledges in id order (one statement) and read what the fast path and the mails need."""
    if not ids:
        return {}
    stmt = (select(Pledge.id, Pledge.status, Pledge.project_id, Project.state, Project.title, Pledge.currency,
                   Pledge.payment_method_type, User.email, User.name, User.locale)
            .join(Project, Project.id == Pledge.project_id).join(User, User.id == Pledge.backer_id)
            .where(Pledge.id.in_(ids)).order_by(Pledge.id).with_for_update(of=Pledge))
    return {row[0]: _Row(*row) for row in session.execute(stmt)}


def _collect_all(session: Session, rows: dict[int, _Row], attempts: dict, fast: list[tuple[ChargeRequest,
                 ChargeResult]]) -> list[tuple[int, Applied]]:
    """Book the batch's plainly collected charges: what `charges.apply_outcome` does for a succeeded
    PaymentIntent of a `charging` pledge without a match, in five statements for the whole batch."""
    if not fast:
        return []
    now = utcnow()
    done = []
    for request, result in fast:
        amount = result.amount_cents if result.amount_cents is not None else attempts[request.attempt_id].amount_cents
        done.append((request, result, rows[request.pledge_id], amount))
    before, after = _S.CHARGING, next_status(_S.CHARGING, PledgeAction.MARK_PAID)
    attempts_paid = [(request.attempt_id, result.payment_intent_id) for request, result, _row, _amount in done]
    pledges_paid = [(row.id, result.payment_intent_id, amount) for _request, result, row, amount in done]
    if _postgres(session):  # one statement each, the batch's values as arrays
        session.execute(_PG_ATTEMPTS_PAID, {"ids": [a for a, _pi in attempts_paid],
                                            "pis": [pi for _a, pi in attempts_paid], "now": now})
        session.execute(_PG_PLEDGES_PAID, {"ids": [p for p, _pi, _c in pledges_paid],
                                           "pis": [pi for _p, pi, _c in pledges_paid],
                                           "paid": [c for _p, _pi, c in pledges_paid], "status": after.value,
                                           "now": now})
    else:
        session.execute(update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("a_id")).values(
            status="succeeded", payment_intent_id=bindparam("pi"), error_code=None, error_message=None,
            updated_at=now), [{"a_id": a, "pi": pi} for a, pi in attempts_paid])
        session.execute(update(_PLEDGES).where(_PLEDGES.c.id == bindparam("p_id")).values(
            status=after.value, payment_intent_id=bindparam("pi"), paid_cents=bindparam("paid"), paid_at=now,
            updated_at=now), [{"p_id": p, "pi": pi, "paid": c} for p, pi, c in pledges_paid])
    _audit(session, [row.id for _request, _result, row, _amount in done], PledgeAction.MARK_PAID, before, after,
           [result.payment_intent_id for _request, result, _row, _amount in done], now)
    _post_charges(session, [{
        "kind": "charge", "amount_cents": amount, "currency": row.currency.upper(), "project_id": row.project_id,
        "pledge_id": row.id, "pot_id": None, "provider_ref": result.payment_intent_id,
        "idempotency_key": f"charge-{result.payment_intent_id}", "note": f"attempt {request.attempt_no}",
        "created_by_id": None, "created_at": now} for request, result, row, amount in done])
    return [(request.attempt_id, Applied(notices=[Notice(
        "campaign_funded", row.id, row.email, row.name, row.locale, row.project_title, amount, row.currency,
        sepa=row.payment_method_type == "sepa_debit")], paid=True)) for request, _result, row, amount in done]


def _post_charges(session: Session, lines: list[dict]) -> None:
    """Append charge lines in one statement; a key already taken must name the same movement (as
    `ledger.post_entry` checks one line at a time)."""
    if _postgres(session):
        columns = ("amount_cents", "currency", "project_id", "pledge_id", "provider_ref", "idempotency_key", "note")
        new = set(session.scalars(_PG_CHARGES, {**{c: [line[c] for line in lines] for c in columns},
                                                "now": lines[0]["created_at"]}))
    else:
        stmt = sqlite.insert(_LEDGER).on_conflict_do_nothing(index_elements=["idempotency_key"])
        new = set(session.scalars(stmt.returning(_LEDGER.c.idempotency_key), lines))
    taken = {line["idempotency_key"]: line for line in lines if line["idempotency_key"] not in new}
    if not taken:
        return
    for key, kind, amount, project_id, pledge_id in session.execute(select(
            LedgerEntry.idempotency_key, LedgerEntry.kind, LedgerEntry.amount_cents, LedgerEntry.project_id,
            LedgerEntry.pledge_id).where(LedgerEntry.idempotency_key.in_(list(taken)))):
        line = taken[key]
        if (kind, amount, project_id, pledge_id) != ("charge", line["amount_cents"], line["project_id"],
                                                     line["pledge_id"]):
            raise LedgerConflict(f"ledger key {key!r} already names another movement")
