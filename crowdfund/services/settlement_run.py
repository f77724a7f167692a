"""What one settlement run carries from step to step (database, provider, locks, pacing, mail port) and the
report it prints; helpers shared by the charging, recovery and polling steps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from crowdfund.models.payments import PaymentAttempt
from crowdfund.services import charges
from crowdfund.services.charge_locks import ChargeLocks
from crowdfund.services.charge_sender import ChargeSender
from crowdfund.services.charges import Applied, ChargeRequest, ChargeResult, Notice, Outcome
from crowdfund.services.rate_limit import RateLimiter
from payments.gateway import PaymentError, PaymentGateway, ProviderUnavailable

log = logging.getLogger(__name__)
Notify = Callable[[Notice], None]
#: The transactional mail port: write the notices into the outbox inside the given (open) transaction.
Queue = Callable[[Session, list[Notice]], object]


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
    polled: int = 0
    failed: int = 0
    mails_failed: int = 0
    rate_limited: int = 0
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
        if self.polled:
            lines.append(f"Asked the provider about {self.polled} pending debit(s)")
        if self.rate_limited:
            lines.append(f"The provider answered 'too many requests' {self.rate_limited} time(s); waited and resent")
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        lines += [f"ALARM: {alarm}" for alarm in self.alarms] + [f"ERROR: {error}" for error in self.errors]
        return "\n".join(lines)


def _notify_one(notify: Notify, item: Notice) -> bool:
    try:
        notify(item)
    except Exception:  # a mail must never undo or stop the money side
        log.exception("Could not send %s mail for pledge %s", item.kind, item.pledge_id)
        return False
    return True


class MailDispatch:
    """Calls the mail port from `threads` threads, so that rendering and storing mails (their own transactions,
    SMTP) overlap the charging instead of holding it up; `finish()` waits for every mail handed over."""

    def __init__(self, notify: Notify, threads: int) -> None:
        self.notify = notify
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="settle-mail")
        self._futures: list[Future[bool]] = []

    def submit(self, notices: list[Notice]) -> None:
        """Queue notices whose transaction has committed."""
        self._futures += [self._pool.submit(_notify_one, self.notify, item) for item in notices]

    def finish(self) -> int:
        """Wait for every queued mail; return how many could not be sent."""
        self._pool.shutdown(wait=True)
        return sum(not future.result() for future in self._futures)


@dataclass
class SettlementRun:
    factory: sessionmaker[Session]
    gateway: PaymentGateway
    locks: ChargeLocks
    notify: Notify
    now: datetime
    report: SettlementReport
    limiter: RateLimiter
    sender: ChargeSender

    mail: MailDispatch | None = None
    queue: Queue | None = None

    def queue_in(self, session: Session, notices: list[Notice]) -> bool:
        """With a `queue` port: write the notices into the outbox in the caller's open transaction (under a
        savepoint, so that a mail fault never undoes the money side) and return True; else False."""
        if self.queue is None:
            return False
        if notices:
            try:
                with session.begin_nested():
                    self.queue(session, notices)
            except Exception:  # a mail must never undo or stop the money side
                log.exception("Could not queue %s mail(s)", len(notices))
                self.report.mails_failed += len(notices)
        return True

    def deliver(self, notices: list[Notice]) -> None:
        """Hand committed notices to the mail port: the outbox (`queue`, in a transaction of their own), the
        mail threads, or `notify` one by one; a failing mail is counted, never raised."""
        if self.queue is not None:
            if notices:
                with self.factory() as session, session.begin():
                    self.queue_in(session, notices)
            return
        if self.mail is not None:
            self.mail.submit(notices)
            return
        for item in notices:
            self.report.mails_failed += not _notify_one(self.notify, item)

    def count(self, result: ChargeResult, applied: Applied) -> None:
        """Add one recorded answer to the report."""
        report = self.report
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

    def record_one(self, request: ChargeRequest, result: ChargeResult) -> None:
        """Record one answer in its own transaction (pledge locked), then mail."""
        with self.factory() as session, session.begin():
            pledge = charges.lock_pledge(session, request.pledge_id)
            attempt = session.get(PaymentAttempt, request.attempt_id, populate_existing=True)
            assert attempt is not None
            applied = charges.apply_outcome(session, pledge, attempt, result)
        self.count(result, applied)
        self.deliver(applied.notices)

    def problem(self, error: PaymentError, doing: str) -> None:
        """An outage only postpones (warning); anything else the provider refuses is an error."""
        target = self.report.warnings if isinstance(error, ProviderUnavailable) else self.report.errors
        target.append(f"{doing}: {error}")
