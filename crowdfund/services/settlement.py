"""Settlement, run from cron every few minutes: close campaigns past their deadline (all or nothing), charge
each active pledge of a funded campaign exactly once, recover charges whose outcome was lost, ask the provider
about SEPA debits still processing, and fail pledges whose fix window is over.

Exactly once, through our own records (localstripe ignores idempotency keys):
1. claim a batch: lock active pledges (FOR UPDATE SKIP LOCKED on PostgreSQL), take each pledge's charge lock
   (a session-level advisory lock that survives commits and dies with the process), move the pledges to
   `charging` and insert their attempts with idempotency keys; COMMIT (`settlement_batch.claim_batch`);
2. only then hand the batch to the sender threads, which call the provider with that key and
   `metadata.pledge_id/attempt` under a shared rate limit (`charge_sender`); record the batch's outcomes in
   one transaction; COMMIT; unlock; mail. While a batch is with the provider, the next one is claimed and
   the previous one recorded, so the database work overlaps the calls;
3. a later run finds `charging` pledges whose attempt has no known outcome and whose lock is free (the
   worker died or the answer was lost): it asks the provider for that attempt's PaymentIntent first and
   adopts it; only if there is none does it send the same request again (same key).
A worker never sends for a pledge it does not hold the lock of, and holds the lock until the outcome is
committed (the sender's calls in flight are waited for, even on a crash), so two runs never both send."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from crowdfund.domain.pledges import PledgeAction, PledgeStatus
from crowdfund.domain.projects import ProjectAction, ProjectState, threshold_reached
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services import charges
from crowdfund.services.campaigns import campaign_totals
from crowdfund.services.charge_locks import ChargeLocks
from crowdfund.services.charge_sender import ChargeSender
from crowdfund.services.charges import ChargeRequest, ChargeResult, Notice
from crowdfund.services.matching import matched_toward_threshold, release_match
from crowdfund.services.pledge_state import apply_pledge_action
from crowdfund.services.rate_limit import RateLimiter
from crowdfund.services.reviews import apply_action
from crowdfund.services.settlement_batch import claim_batch, record_batch
from crowdfund.services.settlement_recovery import fail_overdue, poll_processing, recover_attempts
from crowdfund.services.settlement_run import MailDispatch, Notify, Queue, SettlementReport, SettlementRun
from payments.gateway import PaymentGateway

__all__ = ["BATCH_SIZE", "CONCURRENCY", "MAX_UNAVAILABLE_IN_A_ROW", "SettlementReport", "settle"]

_S = PledgeStatus
BATCH_SIZE = 100
#: Provider calls in flight at once by default in `flask settle` (the library default is 1: one at a time).
CONCURRENCY = 8
#: Batches claimed ahead: one with the provider while the one before it is recorded.
BATCHES_IN_FLIGHT = 2
#: After this many "provider unavailable" answers in a row the run stops sending (the next run goes on).
MAX_UNAVAILABLE_IN_A_ROW = 5


def settle(session_factory: sessionmaker[Session], gateway: PaymentGateway, *, now: datetime, fix_window_days: int,
           notify: Notify, batch_size: int = BATCH_SIZE, max_per_second: float = 0.0, concurrency: int = 1,
           mail_threads: int = 0, limiter: RateLimiter | None = None, queue: Queue | None = None) -> SettlementReport:
    """Run every settlement step once; safe to run again at any time and in parallel (PostgreSQL).

    `max_per_second` (0: no limit) caps the provider calls of the whole run (a token bucket shared by the
    `concurrency` sender threads); `limiter` replaces that bucket (tests). Notices go to `notify` after the
    transaction that decided them has committed: in the calling thread, or with `mail_threads` > 0 from that
    many threads (then `notify` must be thread-safe); the run returns once every mail is handed over. With a
    `queue` port instead, a charged batch's notices are written into the mail outbox inside the transaction
    that records the batch (a recorded charge never loses its mail); the delivery jobs send them."""
    engine = session_factory.kw["bind"]
    limiter = limiter or RateLimiter(max_per_second)
    sender = ChargeSender(gateway, limiter, concurrency=concurrency, max_unavailable=MAX_UNAVAILABLE_IN_A_ROW)
    run = SettlementRun(session_factory, gateway, ChargeLocks(engine), notify, now, SettlementReport(), limiter,
                        sender, MailDispatch(notify, mail_threads) if mail_threads > 0 and queue is None else None,
                        queue)
    try:
        close_campaigns(run)
        recover_attempts(run)
        charge_funded(run, batch_size)
        poll_processing(run)
        fail_overdue(run, fix_window_days)
    finally:
        sender.close()  # wait for calls in flight before their locks go with the connection
        run.locks.close()
        run.report.rate_limited = sender.rate_limited
        if run.mail is not None:
            run.report.mails_failed += run.mail.finish()
    return run.report


# --- 1. close campaigns -----------------------------------------------------------------------------------


def close_campaigns(run: SettlementRun) -> None:
    """End every live campaign past its deadline and decide it by the money that counts toward it; then
    release what a pledge confirmed in the last moment left open in a campaign already decided."""
    with run.factory() as session:
        due = list(session.scalars(select(Project.id).where(or_(
            (Project.state == ProjectState.LIVE.value) & (Project.deadline <= run.now),
            Project.state == ProjectState.ENDED.value)).order_by(Project.id)))
        late = list(session.scalars(select(Pledge.project_id).join(Project, Project.id == Pledge.project_id).where(
            or_((Project.state == ProjectState.NOT_FUNDED.value) & Pledge.status.in_([_S.ACTIVE, _S.PENDING_SETUP]),
                (Project.state == ProjectState.FUNDED.value) & (Pledge.status == _S.PENDING_SETUP.value)))
            .distinct()))
    for project_id in due:
        with run.factory() as session, session.begin():
            notices = _close_one(session, run, project_id)
        run.deliver(notices)
    for project_id in late:
        with run.factory() as session, session.begin():
            notices = _release_late(session, run, project_id)
        run.deliver(notices)


def _close_one(session: Session, run: SettlementRun, project_id: int) -> list[Notice]:
    stmt = select(Project).where(Project.id == project_id).with_for_update(skip_locked=True)
    project = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if project is None or project.state not in (ProjectState.LIVE, ProjectState.ENDED):
        return []  # another run holds it or has decided it
    if project.state == ProjectState.LIVE and (project.deadline is None or project.deadline > run.now):
        return []
    apply_action(session, project, ProjectAction.END, actor=None, now=run.now, reason="deadline passed")
    pledged, _backers = campaign_totals(session, project.id)
    counted = pledged + matched_toward_threshold(session, project.id)
    funded = threshold_reached(counted, project.threshold_cents)
    action = ProjectAction.MARK_FUNDED if funded else ProjectAction.MARK_NOT_FUNDED
    apply_action(session, project, action, actor=None, now=run.now, reason=f"{counted} of {project.threshold_cents}")
    released = _release_pledges(session, project.id, pending_only=funded)
    run.report.ended.append(project.slug)
    (run.report.funded if funded else run.report.not_funded).append(project.slug)
    run.report.released += len(released)
    # Funded: the backers hear from their charge (the amount charged, or what to do). Not funded: one mail
    # per backer whose pledge was active (those who never finished saving a payment method pledged nothing).
    backers = {p.backer_id: p for p, was in released if was == _S.ACTIVE}
    return [charges.notice("campaign_not_funded", p) for p in backers.values()]


def _release_late(session: Session, run: SettlementRun, project_id: int) -> list[Notice]:
    project = session.get(Project, project_id)
    funded = project is not None and project.state == ProjectState.FUNDED
    released = _release_pledges(session, project_id, pending_only=funded)
    run.report.released += len(released)
    return [charges.notice("campaign_not_funded", p) for p, was in released if was == _S.ACTIVE]


def _release_pledges(session: Session, project_id: int, *, pending_only: bool) -> list[tuple[Pledge, str]]:
    """Release the pledges that will never be charged: all open ones, or (funded) those never set up."""
    statuses = [_S.PENDING_SETUP.value] if pending_only else [_S.PENDING_SETUP.value, _S.ACTIVE.value]
    stmt = (select(Pledge).where(Pledge.project_id == project_id, Pledge.status.in_(statuses))
            .order_by(Pledge.id).with_for_update())
    released = []
    for pledge in session.scalars(stmt.execution_options(populate_existing=True)):
        released.append((pledge, pledge.status))
        apply_pledge_action(session, pledge, PledgeAction.RELEASE, actor_id=None, reason="campaign closed")
        release_match(session, pledge)
        charges.give_back_reward(session, pledge)
    return released


# --- 2. charge ------------------------------------------------------------------------------------------


def charge_funded(run: SettlementRun, batch_size: int) -> None:
    """Charge every active pledge of a funded campaign, a claimed batch at a time: a batch's attempts are
    committed before the first of its calls, its outcomes together after the last (a crash in between only
    means that the next run looks those attempts up first). Up to BATCHES_IN_FLIGHT batches are with the
    sender at once, so claiming and recording overlap the provider calls."""
    in_flight: deque[tuple[list[ChargeRequest], list[Future[ChargeResult | None]]]] = deque()
    claiming = True
    try:
        while True:
            if claiming and len(in_flight) < BATCHES_IN_FLIGHT and not run.sender.stopped:
                with run.factory() as session, session.begin():
                    requests = claim_batch(session, run.locks, batch_size)
                if requests:
                    in_flight.append((requests, [run.sender.submit(request) for request in requests]))
                    continue
                claiming = False  # nothing left, or nothing this worker may take
            if not in_flight:
                return
            requests, futures = in_flight[0]
            answers = [future.result() for future in futures]  # re-raises a call that crashed
            _record(run, requests, answers)
            in_flight.popleft()
            run.locks.release_many([request.pledge_id for request in requests])
    finally:
        if in_flight:  # a crash: calls still under way must come back before their locks may go
            run.sender.close()


def _record(run: SettlementRun, requests: list[ChargeRequest], answers: list[ChargeResult | None]) -> None:
    """Record a batch's outcomes in one transaction, then count and mail (after the commit)."""
    results = [(request, answer) for request, answer in zip(requests, answers, strict=True) if answer is not None]
    unsent = [request for request, answer in zip(requests, answers, strict=True) if answer is None]
    with run.factory() as session, session.begin():
        applied = record_batch(session, results, unsent)
        notices = [notice for _result, done in applied for notice in done.notices]
        queued = run.queue_in(session, notices)
    if unsent:
        run.report.warnings.append(f"the provider is unavailable; {len(unsent)} charge(s) left for the next run")
    for result, done in applied:
        run.count(result, done)
    if not queued:
        run.deliver(notices)
