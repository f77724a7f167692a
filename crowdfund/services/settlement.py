"""Settlement, run from cron every few minutes: close campaigns past their deadline (all or nothing), charge
each active pledge of a funded campaign exactly once, recover charges whose outcome was lost, and fail
pledges whose fix window is over.

Exactly once, through our own records (localstripe ignores idempotency keys):
1. claim: lock active pledges (FOR UPDATE SKIP LOCKED on PostgreSQL), take each pledge's charge lock
   (a session-level advisory lock that survives commits and dies with the process), move the pledge to
   `charging` and insert its attempt with the idempotency key; COMMIT;
2. call the provider with that key and `metadata.pledge_id/attempt`; record the outcome; COMMIT; unlock;
3. a later run finds `charging` pledges whose attempt has no known outcome and whose lock is free (the
   worker died or the answer was lost): it asks the provider for that attempt's PaymentIntent first and
   adopts it; only if there is none does it send the same request again (same key).
A worker never sends for a pledge it does not hold the lock of, so two runs never both send."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from crowdfund.domain.pledges import PledgeAction, PledgeStatus, fix_window_over
from crowdfund.domain.projects import ProjectAction, ProjectState, threshold_reached
from crowdfund.models.payments import PaymentAttempt
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.services import charges
from crowdfund.services.campaigns import campaign_totals
from crowdfund.services.charge_locks import ChargeLocks
from crowdfund.services.charges import Applied, ChargeRequest, ChargeResult, Notice, Outcome
from crowdfund.services.matching import matched_toward_threshold, release_match
from crowdfund.services.pledge_state import apply_pledge_action
from crowdfund.services.reviews import apply_action
from payments.gateway import PaymentError, PaymentGateway, ProviderUnavailable

log = logging.getLogger(__name__)
Notify = Callable[[Notice], None]
_S = PledgeStatus
BATCH_SIZE = 50
#: After this many "provider unavailable" answers in a row the run stops sending (the next run goes on).
MAX_UNAVAILABLE_IN_A_ROW = 5
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.1, 5.0


@dataclass
class SettlementReport:
    ended: list[str] = field(default_factory=list)
    funded: list[str] = field(default_factory=list)
    not_funded: list[str] = field(default_factory=list)
    released: int = 0
    charged: int = 0
    processing: int = 0
    action_required: int = 0
    unknown: int = 0
    recovered: int = 0
    failed: int = 0
    mails_failed: int = 0
    alarms: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Say in a few lines what the run did (printed by `flask settle`)."""
        lines = [f"Closed {len(self.ended)} campaign(s): {len(self.funded)} funded, {len(self.not_funded)} not funded"]
        lines += [f"  funded: {slug}" for slug in self.funded] + [f"  not funded: {slug}" for slug in self.not_funded]
        lines.append(f"Released {self.released} pledge(s); charged {self.charged}, {self.processing} processing "
                     f"(SEPA), {self.action_required} need the backer, {self.unknown} unknown (retried next run)")
        lines.append(f"Recovered {self.recovered} earlier attempt(s); failed {self.failed} pledge(s) after the fix "
                     f"window; {self.mails_failed} mail(s) not sent")
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        lines += [f"ALARM: {alarm}" for alarm in self.alarms] + [f"ERROR: {error}" for error in self.errors]
        return "\n".join(lines)


@dataclass
class _Run:
    factory: sessionmaker[Session]
    gateway: PaymentGateway
    locks: ChargeLocks
    notify: Notify
    now: datetime
    report: SettlementReport
    min_interval: float = 0.0
    last_call: float = 0.0
    unavailable_in_a_row: int = 0

    def deliver(self, notices: list[Notice]) -> None:
        """Hand committed notices to the mail port; a failing mail is counted, never raised."""
        for item in notices:
            try:
                self.notify(item)
            except Exception:  # a mail must never undo or stop the money side
                log.exception("Could not send %s mail for pledge %s", item.kind, item.pledge_id)
                self.report.mails_failed += 1

    def pace(self) -> None:
        """Keep to the rate limit, and back off while the provider is unavailable (rate limited: HTTP 429)."""
        if self.unavailable_in_a_row:
            time.sleep(min(BACKOFF_SECONDS * 2 ** (self.unavailable_in_a_row - 1), MAX_BACKOFF_SECONDS))
        wait = self.last_call + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_call = time.monotonic()


def settle(session_factory: sessionmaker[Session], gateway: PaymentGateway, *, now: datetime, fix_window_days: int,
           notify: Notify, batch_size: int = BATCH_SIZE, max_per_second: float = 0.0) -> SettlementReport:
    """Run every settlement step once; safe to run again at any time and in parallel (PostgreSQL)."""
    engine = session_factory.kw["bind"]
    run = _Run(session_factory, gateway, ChargeLocks(engine), notify, now, SettlementReport(),
               1.0 / max_per_second if max_per_second > 0 else 0.0)
    try:
        close_campaigns(run)
        recover_attempts(run)
        charge_funded(run, batch_size)
        fail_overdue(run, fix_window_days)
    finally:
        run.locks.close()
    return run.report


# --- 1. close campaigns -----------------------------------------------------------------------------------


def close_campaigns(run: _Run) -> None:
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


def _close_one(session: Session, run: _Run, project_id: int) -> list[Notice]:
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


def _release_late(session: Session, run: _Run, project_id: int) -> list[Notice]:
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


def charge_funded(run: _Run, batch_size: int) -> None:
    """Charge every active pledge of a funded campaign, a claimed batch at a time: the batch's attempts are
    committed before the first call, its outcomes together after the last (a crash in between only means
    that the next run looks those attempts up first)."""
    while run.unavailable_in_a_row < MAX_UNAVAILABLE_IN_A_ROW:
        with run.factory() as session, session.begin():
            requests = _claim(session, run.locks, batch_size)
        if not requests:
            return  # nothing left, or nothing this worker may take
        try:
            results = _send_all(run, requests)
            _record_all(run, results, requests[len(results):])
        finally:
            for request in requests:
                run.locks.release(request.pledge_id)


def _claim(session: Session, locks: ChargeLocks, batch_size: int) -> list[ChargeRequest]:
    stmt = (select(Pledge).join(Project, Project.id == Pledge.project_id)
            .where(Pledge.status == _S.ACTIVE.value, Project.state == ProjectState.FUNDED.value)
            .order_by(Pledge.id).limit(batch_size).with_for_update(of=Pledge, skip_locked=True))
    requests = []
    for pledge in session.scalars(stmt.execution_options(populate_existing=True)):
        if not locks.acquire(pledge.id):
            continue
        apply_pledge_action(session, pledge, PledgeAction.START_CHARGE, actor_id=None, reason="settlement")
        requests.append(charges.charge_request(pledge, charges.start_attempt(session, pledge, kind="off_session")))
    return requests


def _send_all(run: _Run, requests: list[ChargeRequest]) -> list[tuple[ChargeRequest, ChargeResult]]:
    """Send the claimed attempts in order; stop when the provider keeps being unavailable."""
    results = []
    for request in requests:
        if run.unavailable_in_a_row >= MAX_UNAVAILABLE_IN_A_ROW:
            break
        results.append((request, _send(run, request)))
    return results


def _send(run: _Run, request: ChargeRequest) -> ChargeResult:
    if not (request.customer_id and request.payment_method_id):
        return ChargeResult(Outcome.NEEDS_BACKER, error_code="no_payment_method")
    run.pace()
    result = charges.send_charge(run.gateway, request)
    run.unavailable_in_a_row = run.unavailable_in_a_row + 1 if result.outcome == Outcome.UNKNOWN else 0
    return result


def _record_all(run: _Run, results: list[tuple[ChargeRequest, ChargeResult]], unsent: list[ChargeRequest]) -> None:
    """Record a batch's outcomes in one transaction (pledges locked in id order), then mail."""
    with run.factory() as session, session.begin():
        pledges = charges.lock_pledges(session, [request.pledge_id for request, _result in results])
        attempts = {a.id: a for a in session.scalars(select(PaymentAttempt).where(
            PaymentAttempt.id.in_([request.attempt_id for request, _result in results]))
            .execution_options(populate_existing=True))}
        applied = [(result, charges.apply_outcome(session, pledges[request.pledge_id], attempts[request.attempt_id],
                                                  result)) for request, result in results]
        for request in unsent:  # claimed, never sent: a later run may send them without looking first
            attempt = session.get(PaymentAttempt, request.attempt_id, populate_existing=True)
            if attempt is not None and attempt.status == "started":
                attempt.status = charges.NOT_SENT
    if unsent:
        run.report.warnings.append(f"the provider is unavailable; {len(unsent)} charge(s) left for the next run")
    for result, done in applied:
        _count(run, result, done)
        run.deliver(done.notices)


def _apply(session: Session, request: ChargeRequest, result: ChargeResult) -> Applied:
    pledge = charges.lock_pledge(session, request.pledge_id)
    attempt = session.get(PaymentAttempt, request.attempt_id, populate_existing=True)
    assert attempt is not None
    return charges.apply_outcome(session, pledge, attempt, result)


def _record(run: _Run, request: ChargeRequest, result: ChargeResult) -> None:
    with run.factory() as session, session.begin():
        applied = _apply(session, request, result)
    _count(run, result, applied)
    run.deliver(applied.notices)


def _count(run: _Run, result: ChargeResult, applied: Applied) -> None:
    report = run.report
    if result.outcome == Outcome.UNKNOWN:
        report.unknown += 1
        if result.misconfigured:
            report.errors.append(f"provider refused our request: {result.error_message}")
        return
    report.charged += applied.paid
    report.processing += applied.processing
    report.action_required += applied.needs_backer
    if applied.alarm:
        report.alarms.append(applied.alarm)


# --- 3. recover -----------------------------------------------------------------------------------------


def recover_attempts(run: _Run) -> None:
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
            _problem(run, error, f"recovering pledge {pledge_id}")
        finally:
            run.locks.release(pledge_id)


def _recover_one(run: _Run, attempt_id: int, pledge_id: int) -> None:
    with run.factory() as session:
        pledge = session.get(Pledge, pledge_id, populate_existing=True)
        attempt = session.get(PaymentAttempt, attempt_id, populate_existing=True)
        if pledge is None or attempt is None or attempt.status not in charges.OPEN_ATTEMPTS:
            return  # settled meanwhile
        request, never_sent = charges.charge_request(pledge, attempt), attempt.status == charges.NOT_SENT
        resend = pledge.status == _S.CHARGING and attempt.kind == "off_session"
    found = None if never_sent else charges.find_existing(run.gateway, request)
    if found is not None:
        result = ChargeResult.from_info(found)
    elif resend:
        run.pace()
        result = charges.send_charge(run.gateway, request)  # same idempotency key, same metadata
    else:  # the backer's on-session attempt never reached the provider: nothing to collect
        result = ChargeResult(Outcome.NEEDS_BACKER, error_code="abandoned")
    run.report.recovered += 1
    _record(run, request, result)


def _problem(run: _Run, error: PaymentError, doing: str) -> None:
    """An outage only postpones (warning); anything else the provider refuses is an error."""
    target = run.report.warnings if isinstance(error, ProviderUnavailable) else run.report.errors
    target.append(f"{doing}: {error}")


# --- 4. fix window --------------------------------------------------------------------------------------


def fail_overdue(run: _Run, fix_window_days: int) -> None:
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
            _problem(run, error, f"checking pledge {pledge_id} before failing it")
        finally:
            run.locks.release(pledge_id)


def _fail_one(run: _Run, pledge_id: int, fix_window_days: int) -> None:
    """Fail the pledge unless the provider says one of its PaymentIntents went through meanwhile."""
    with run.factory() as session:
        attempt = charges.latest_attempt(session, pledge_id)
        if attempt is not None and attempt.status in charges.OPEN_ATTEMPTS:
            return  # an outcome is still missing: recovery first
        pledge = session.get(Pledge, pledge_id)
        candidates = {pi for pi in (pledge.payment_intent_id if pledge else None,
                                    attempt.payment_intent_id if attempt else None) if pi}
    infos = [run.gateway.retrieve_payment_intent(pi_id) for pi_id in sorted(candidates)]
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
