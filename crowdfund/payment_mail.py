"""Mail about money to backers, rendered in their language: the `notify` port of settlement, webhooks,
the backer's payment page and refunds. Written only after the deciding transaction has committed, and sent
through the mail outbox (`crowdfund.mail`): a mail the SMTP server does not take now is retried, never lost."""

from __future__ import annotations

import logging
import smtplib

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

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


def send_notice(notice: Notice) -> None:
    """Render one notice and put it in the outbox (sent at once, or retried later if SMTP is down).

    Raises only if the mail cannot even be stored (the database is gone): the callers log and count that."""
    with force_locale(notice.locale or "de"):
        subject = str(SUBJECTS[notice.kind]) % {"title": notice.project_title}
        mail.send_template(notice.email, subject, notice.kind, reference=f"pledge:{notice.pledge_id}",
                           notice=notice, link=pay_link(notice.pledge_id),
                           fix_window_days=current_app.config["PAYMENT_FIX_WINDOW_DAYS"])


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
