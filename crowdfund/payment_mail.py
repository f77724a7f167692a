"""Mail about money to backers, rendered in their language: the `notify` port of settlement, webhooks,
the backer's payment page and refunds. Written only after the deciding transaction has committed, and sent
through the mail outbox (`crowdfund.mail`): a mail the SMTP server does not take now is retried, never lost."""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import asdict
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crowdfund import mail
from crowdfund.services.charges import Notice

log = logging.getLogger(__name__)

SUBJECTS = {
    "campaign_funded": _l("“%(title)s” is funded"),
    "campaign_not_funded": _l("“%(title)s” was not funded: nothing has been charged"),
    "action_required": _l("Action required: complete your payment for “%(title)s”"),
    "payment_failed": _l("Your pledge for “%(title)s” could not be collected"),
    "refund_made": _l("Refund of your pledge for “%(title)s”"),
}


def pay_link(pledge_id: int) -> str:
    """Return the absolute address of the backer's fix-the-payment page (also outside a request)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/pledges/{pledge_id}/payment"


def _subject(notice: Notice) -> str:
    with force_locale(notice.locale or "de"):
        return str(SUBJECTS[notice.kind]) % {"title": notice.project_title}


def _context(notice: Notice) -> dict:
    return {"notice": notice, "link": pay_link(notice.pledge_id),
            "fix_window_days": current_app.config["PAYMENT_FIX_WINDOW_DAYS"]}


def render_payload(payload: str) -> EmailMessage:
    """The outbox's renderer for notices queued unrendered (`queue_notices`), in the backer's language."""
    notice = Notice(**json.loads(payload))
    with force_locale(notice.locale or "de"):
        return mail.render(notice.email, _subject(notice), notice.kind, **_context(notice))


mail.register_renderer(SUBJECTS, render_payload)


def queue_notices(session: Session, notices: list[Notice]) -> int:
    """Put notices into the outbox unrendered, in one multi-row INSERT inside the caller's transaction (used by
    settlement, which decides thousands at a time); the delivery jobs render and send them. Return how many."""
    return mail.store_deferred(session, [
        mail.Deferred(kind=n.kind, recipient=n.email, subject=_subject(n), payload=json.dumps(asdict(n)),
                      reference=f"pledge:{n.pledge_id}") for n in notices])


def send_notice(notice: Notice) -> None:
    """Render one notice and put it in the outbox (sent at once, or retried later if SMTP is down).

    Raises only if the mail cannot even be stored (the database is gone): the callers log and count that."""
    with force_locale(notice.locale or "de"):
        mail.send_template(notice.email, _subject(notice), notice.kind, reference=f"pledge:{notice.pledge_id}",
                           **_context(notice))


def deliver(notices: list[Notice]) -> int:
    """Write notices after a commit; a mail that cannot be written is logged, never raised. Return how many."""
    failed = 0
    for notice in notices:
        try:
            send_notice(notice)
        except (OSError, smtplib.SMTPException, SQLAlchemyError):
            log.exception("Could not write the %s mail for pledge %s", notice.kind, notice.pledge_id)
            failed += 1
    return failed
