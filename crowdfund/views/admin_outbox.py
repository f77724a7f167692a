"""The admin's view of the mail outbox: what was sent, what waits for a retry and why, what failed for good;
"Retry now" makes a queued or failed message due at once and hands it to the job queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer

from crowdfund import db, jobs, mail
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.roles import Role
from crowdfund.forms.auth import EmptyForm
from crowdfund.models.outbox import FAILED, QUEUED, SENT, STATUSES, OutboxMessage
from crowdfund.services.audit import record_change

bp = Blueprint("admin_outbox", __name__, url_prefix="/admin/outbox")
PAGE_SIZE = 200


@bp.get("")
@role_required(Role.ADMIN)
def index():
    session = db.session()
    status = request.args.get("status", "")
    stmt = select(OutboxMessage).options(defer(OutboxMessage.message)).order_by(OutboxMessage.id.desc())
    if status in STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    else:
        status = ""
    rows = session.scalars(stmt.limit(PAGE_SIZE)).all()
    return render_template("admin/outbox.html", rows=rows, counts=mail.status_counts(session), status=status,
                           form=EmptyForm(), page_size=PAGE_SIZE, queued_on_redis=jobs.queued())


@bp.post("/<int:message_id>/retry")
@role_required(Role.ADMIN)
def retry(message_id: int):
    session = db.session()
    row = session.get(OutboxMessage, message_id) or abort(404)
    back = url_for("admin_outbox.index", status=request.args.get("status") or None)
    if not EmptyForm().validate_on_submit():
        abort(400)
    before = row.status
    if not mail.requeue(session, row, utcnow()):
        flash(_("This message has already been sent."), "info")
        return redirect(back)
    record_change(session, entity_type="outbox_message", entity_id=row.id, action="retry", actor_id=current_user.id,
                  from_state=before, to_state=QUEUED)
    session.commit()
    mail.hand_over(row.id)
    session.refresh(row)
    if row.status == SENT:
        flash(_("The message to %(recipient)s has been sent.", recipient=row.recipient), "success")
    elif row.status == FAILED:
        flash(_("The message to %(recipient)s could not be sent and stays marked as failed: %(error)s",
                recipient=row.recipient, error=row.last_error or ""), "error")
    elif row.attempts and row.last_error and not jobs.queued():
        flash(_("The message to %(recipient)s could not be sent: %(error)s. It will be retried.",
                recipient=row.recipient, error=row.last_error), "error")
    else:
        flash(_("The message to %(recipient)s is queued for delivery.", recipient=row.recipient), "info")
    return redirect(back)
