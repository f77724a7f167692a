"""Finance and admins refund paid pledges, in full or in part, from a project's payments page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.roles import Role
from crowdfund.formatting import euros
from crowdfund.forms.refunds import RefundForm
from crowdfund.gateway import payment_gateway
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.payment_mail import deliver
from crowdfund.services import ledger, refunds
from crowdfund.services.refunds import RefundRefused
from payments.gateway import ProviderUnavailable

bp = Blueprint("refunds", __name__, url_prefix="/finance")
CHARGED = ("paid", "partially_refunded", "refunded")
REFUSALS = {
    "not_paid": _l("This pledge has nothing left to refund."),
    "amount": _l("The amount must be more than 0 and at most what is left to refund."),
    "payout": _l("The payout for this project has been approved: refunds are no longer possible."),
    "stale": _l("Another refund of this pledge was made in the meantime. Please check the amounts and send again."),
    "provider": _l("The payment provider refused the refund."),
}


@bp.get("/projects/<int:project_id>/payments")
@role_required(Role.FINANCE, Role.ADMIN)
def project_payments(project_id: int):
    session = db.session()
    project = session.get(Project, project_id) or abort(404)
    pledges = session.scalars(select(Pledge).where(Pledge.project_id == project.id, Pledge.status.in_(CHARGED))
                              .order_by(Pledge.id)).all()
    return render_template("refunds/project.html", project=project, pledges=pledges,
                           totals=ledger.project_totals(session, project.id),
                           balance=ledger.project_balance(session, project.id),
                           payout=ledger.payout_approved(session, project.id))


@bp.route("/pledges/<int:pledge_id>/refund", methods=["GET", "POST"])
@role_required(Role.FINANCE, Role.ADMIN)
def refund(pledge_id: int):
    session = db.session()
    pledge = session.get(Pledge, pledge_id) or abort(404)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            done = refunds.refund_pledge(session, payment_gateway(), pledge.id, amount_cents=form.amount.data,
                                         sequence=form.sequence.data, actor_id=current_user.id, note=form.note.data)
        except RefundRefused as refused:
            session.rollback()
            form.amount.errors = [*form.amount.errors, str(REFUSALS[refused.code])]
            return _render(pledge, form, 409 if refused.code in ("stale", "payout", "not_paid") else 422)
        except ProviderUnavailable:
            session.rollback()
            flash(_("The payment provider could not be reached. Please send the form again."), "error")
            return _render(pledge, form, 503)
        session.commit()
        deliver(done.notices)
        flash(_("Refunded %(amount)s.", amount=euros(-done.entry.amount_cents)), "success")
        return redirect(url_for(".project_payments", project_id=pledge.project_id))
    return _render(pledge, form, 422 if form.errors else 200)


def _render(pledge: Pledge, form: RefundForm, status: int):
    session = db.session()
    session.refresh(pledge)
    form.sequence.data, form.sequence.raw_data = refunds.next_sequence(session, pledge.id), None
    left = refunds.refundable_cents(pledge.paid_cents, pledge.refunded_cents)
    return render_template("refunds/refund.html", pledge=pledge, form=form, left=left,
                           payout=ledger.payout_approved(session, pledge.project_id)), status
