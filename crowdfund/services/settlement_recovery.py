"""The settlement steps that ask the provider about one pledge at a time, each under the pledge's charge lock:

- recover: an attempt whose outcome was lost (the worker died, the answer never came) is looked up at the
  provider by its `metadata.pledge_id/attempt` and adopted; only if there is none is the same request (same
  idempotency key) sent again. Never a second PaymentIntent for an attempt that may have one.
- poll: a SEPA debit waits in `processing` for days, and localstripe sends no event when it ends (a missed
  webhook would leave it there on real Stripe too): its PaymentIntent is re-fetched and applied like a webhook
  (paid with its ledger line, or the backer needed).
- fail: a pledge left in `action_required` past the fix window fails, after one last look at the provider."""

from __future__ import annotations

from sqlalchemy import select

from crowdfund.domain.pledges import PledgeStatus, fix_window_over
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.services import charges
from crowdfund.services.charges import Applied, ChargeResult, Outcome
from crowdfund.services.settlement_run import SettlementRun
from payments.gateway import PaymentError

_S = PledgeStatus


def recover_attempts(run: SettlementRun) -> None:
    """Settle every attempt whose outcome was lost, unless a live worker is still on it."""
    with run.factory() as session:
        stmt = (select(PaymentAttempt.id, PaymentAttempt.pledge_id).join(Pledge, Pledge.id == PaymentAttempt.pledge_id)
                .where(PaymentAttempt.status.in_(charges.OPEN_ATTEMPTS),
                       Pledge.status.in_([_S.CHARGING.value, _S.ACTION_REQUIRED.value]))
                .order_by(PaymentAttempt.id))
        open_attempts = list(session.execute(stmt))
    for attempt_id, pledge_id in open_attempts:
        if not run.locks.acquire(pledge_id):
            continue  # in flight in another worker
        try:
            _recover_one(run, attempt_id, pledge_id)
        except PaymentError as error:
            run.problem(error, f"recovering pledge {pledge_id}")
        finally:
            run.locks.release(pledge_id)


def _recover_one(run: SettlementRun, attempt_id: int, pledge_id: int) -> None:
    with run.factory() as session:
        pledge = session.get(Pledge, pledge_id, populate_existing=True)
        attempt = session.get(PaymentAttempt, attempt_id, populate_existing=True)
        if pledge is None or attempt is None or attempt.status not in charges.OPEN_ATTEMPTS:
            return  # settled meanwhile
        request, never_sent = charges.charge_request(pledge, attempt), attempt.status == charges.NOT_SENT
        resend = pledge.status == _S.CHARGING and attempt.kind == "off_session"
    if not never_sent:
        run.limiter.acquire()
    found = None if never_sent else charges.find_existing(run.gateway, request)
    if found is not None:
        result = ChargeResult.from_info(found)
    elif resend:
        result = run.sender.send(request)  # same idempotency key, same metadata
    else:  # the backer's on-session attempt never reached the provider: nothing to collect
        result = ChargeResult(Outcome.NEEDS_BACKER, error_code="abandoned")
    run.report.recovered += 1
    run.record_one(request, result)


def poll_processing(run: SettlementRun) -> None:
    """Ask the provider about every pledge still `processing` (SEPA) and apply what it says now."""
    with run.factory() as session:
        waiting = list(session.execute(select(Pledge.id, Pledge.payment_intent_id)
                                       .where(Pledge.status == _S.PROCESSING.value).order_by(Pledge.id)))
    for pledge_id, pi_id in waiting:
        if not pi_id or not run.locks.acquire(pledge_id):
            continue
        try:
            _poll_one(run, pledge_id, pi_id)
        except PaymentError as error:
            run.problem(error, f"asking about the debit of pledge {pledge_id}")
        finally:
            run.locks.release(pledge_id)


def _poll_one(run: SettlementRun, pledge_id: int, pi_id: str) -> None:
    run.limiter.acquire()
    info = run.gateway.retrieve_payment_intent(pi_id)
    run.report.polled += 1
    result = ChargeResult.from_info(info)
    if result.outcome in (Outcome.PROCESSING, Outcome.UNKNOWN):
        return  # still on its way
    with run.factory() as session, session.begin():
        pledge = charges.lock_pledge(session, pledge_id)
        attempt = charges.attempt_for(session, info)
        if pledge.status != _S.PROCESSING or attempt is None or attempt.pledge_id != pledge_id:
            return  # a webhook was quicker, or the PaymentIntent is not this pledge's
        applied = charges.apply_outcome(session, pledge, attempt, result)
    run.count(result, applied)
    run.deliver(applied.notices)


def fail_overdue(run: SettlementRun, fix_window_days: int) -> None:
    """Fail pledges left in action_required past the fix window (after one last look at the provider)."""
    with run.factory() as session:
        stmt = select(Pledge.id, Pledge.action_required_at).where(Pledge.status == _S.ACTION_REQUIRED.value)
        overdue = [pid for pid, since in session.execute(stmt.order_by(Pledge.id))
                   if since is not None and fix_window_over(since, run.now, fix_window_days)]
    for pledge_id in overdue:
        if not run.locks.acquire(pledge_id):
            continue
        try:
            _fail_one(run, pledge_id, fix_window_days)
        except PaymentError as error:
            run.problem(error, f"checking pledge {pledge_id} before failing it")
        finally:
            run.locks.release(pledge_id)


def _fail_one(run: SettlementRun, pledge_id: int, fix_window_days: int) -> None:
    """Fail the pledge unless the provider says one of its PaymentIntents went through meanwhile."""
    with run.factory() as session:
        attempt = charges.latest_attempt(session, pledge_id)
        if attempt is not None and attempt.status in charges.OPEN_ATTEMPTS:
            return  # an outcome is still missing: recovery first
        pledge = session.get(Pledge, pledge_id)
        candidates = {pi for pi in (pledge.payment_intent_id if pledge else None,
                                    attempt.payment_intent_id if attempt else None) if pi}
    infos = []
    for pi_id in sorted(candidates):
        run.limiter.acquire()
        infos.append(run.gateway.retrieve_payment_intent(pi_id))
    went_through = [i for i in infos if charges.outcome_of(i.status) in (Outcome.SUCCEEDED, Outcome.PROCESSING)]
    with run.factory() as session, session.begin():
        pledge = charges.lock_pledge(session, pledge_id)
        since = pledge.action_required_at
        if pledge.status != _S.ACTION_REQUIRED or since is None or not fix_window_over(since, run.now,
                                                                                      fix_window_days):
            return
        if went_through:  # paid (or a debit still running): never fail a pledge whose money may be moving
            behind = charges.attempt_for(session, went_through[0])
            applied = (charges.apply_outcome(session, pledge, behind, ChargeResult.from_info(went_through[0]))
                       if behind is not None else Applied())
            run.report.charged += applied.paid
        else:
            applied = charges.fail_pledge(session, pledge)
            run.report.failed += 1
    run.deliver(applied.notices)
