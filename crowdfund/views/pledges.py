"""Backers' side of pledging: the pledge form, the payment step with Stripe.js, confirmation from the
provider, the list of one's pledges, change and cancel. Another user's pledge is a 404.

A backer has one open pledge per project: opening the pledge form again leads to that pledge."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from crowdfund import db, mail
from crowdfund.auth import login_required
from crowdfund.forms.pledges import ChangePledgeForm, PledgeForm
from crowdfund.gateway import PaymentsUnavailable, payment_gateway
from crowdfund.models.pledges import Pledge
from crowdfund.services import pledges
from crowdfund.services.pledges import ConfirmOutcome, PledgeRules

log = logging.getLogger(__name__)
bp = Blueprint("pledges", __name__)


@bp.errorhandler(PaymentsUnavailable)
@bp.errorhandler(pledges.PaymentProviderError)
def unavailable(exc: Exception):
    db.session().rollback()
    log.warning("Pledging unavailable on %s: %s", request.path, exc)
    return render_template("pledges/unavailable.html", configured=not isinstance(exc, PaymentsUnavailable)), 503


@bp.errorhandler(pledges.PledgeClosed)
@bp.errorhandler(pledges.PledgeNotChangeable)
def conflict(exc: Exception):
    db.session().rollback()
    flash(_("This pledge can no longer be changed: the campaign is closed or the pledge is no longer open."),
          "error")
    return redirect(url_for("pledges.mine"))


@bp.route("/projects/<slug>/pledge", methods=["GET", "POST"])
@login_required
def new(slug: str):
    session, project = db.session(), pledges.public_project(db.session(), slug) or abort(404)
    if not pledges.is_open(project, _now()):
        flash(_("This campaign is not taking pledges."), "error")
        return redirect(url_for("campaigns.detail", slug=slug))
    if (existing := pledges.open_pledge(session, project, current_user)) is not None:
        return _to_existing(existing)
    gateway, rules = payment_gateway(), _rules()
    form = PledgeForm()
    form.set_rewards(project.rewards, project.currency)
    form.set_methods(rules.payment_method_types)
    if request.method == "GET":
        _preselect(form, project)
    elif form.validate_on_submit():
        try:
            started = pledges.start_pledge(
                session, gateway, project=project, backer=current_user._get_current_object(),
                amount_cents=form.amount_eur.data, reward_id=form.reward_id(), anonymous=form.anonymous.data,
                message=form.message.data or "", payment_method_type=form.payment_method.data, now=_now(),
                rules=rules)
        except pledges.PledgeExists as exc:
            session.rollback()
            return _to_existing(exc.pledge)
        except pledges.PledgeInvalid as exc:
            session.rollback()
            form.show_errors(exc.errors)
        else:
            session.commit()
            return redirect(url_for("pledges.pay", pledge_id=started.pledge.id))
    return render_template("pledges/new.html", form=form, project=project), 422 if form.errors else 200


@bp.get("/pledges/<int:pledge_id>/pay")
@login_required
def pay(pledge_id: int):
    pledge = _own(pledge_id)
    if pledge.status != "pending_setup":
        return redirect(url_for("pledges.mine"))
    setup = pledges.payment_setup(db.session(), payment_gateway(), pledge, now=_now())
    db.session().commit()
    return render_template("pledges/pay.html", pledge=pledge, project=pledge.project, setup=setup,
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"])


@bp.post("/pledges/<int:pledge_id>/confirm")
@login_required
def confirm(pledge_id: int):
    pledge = _own(pledge_id)
    result = pledges.confirm_pledge(db.session(), payment_gateway(), pledge, actor_id=current_user.id, now=_now())
    db.session().commit()
    if result.outcome == ConfirmOutcome.ACTIVATED:
        notify_confirmed(pledge)
        flash(_("Thank you! Your pledge is active. You pay only if the campaign reaches its threshold."), "success")
    elif result.outcome == ConfirmOutcome.ALREADY_ACTIVE:
        flash(_("Your pledge is already active."), "info")
    elif result.outcome == ConfirmOutcome.PENDING:
        flash(_("The payment provider is still checking your payment method. Please look again in a moment."),
              "info")
    else:
        reason = result.error or request.form.get("client_error", "")[:200]
        flash(_("Your payment method could not be saved. %(reason)s Please try again.", reason=reason), "error")
        return redirect(url_for("pledges.pay", pledge_id=pledge.id))
    return redirect(url_for("pledges.mine"))


@bp.get("/me/pledges")
@login_required
def mine():
    rows = pledges.backer_pledges(db.session(), current_user)
    window = timedelta(days=int(current_app.config["PAYMENT_FIX_WINDOW_DAYS"]))  # to complete a payment
    fix_by = {p.id: p.action_required_at + window for p in rows
              if p.status == "action_required" and p.action_required_at is not None}
    return render_template("pledges/mine.html", pledges=rows, now=_now(), is_open=pledges.is_open, fix_by=fix_by)


@bp.route("/pledges/<int:pledge_id>/edit", methods=["GET", "POST"])
@login_required
def edit(pledge_id: int):
    pledge, session = _own(pledge_id), db.session()
    if pledge.status not in ("pending_setup", "active"):
        raise pledges.PledgeNotChangeable(pledge.status)
    pledges.require_open(pledge.project, _now())
    form = ChangePledgeForm(data=_form_data(pledge)) if request.method == "GET" else ChangePledgeForm()
    form.set_rewards(pledge.project.rewards, pledge.project.currency, keep=pledge.reward_id)
    if form.validate_on_submit():
        try:
            pledges.change_pledge(session, pledge, amount_cents=form.amount_eur.data, reward_id=form.reward_id(),
                                  anonymous=form.anonymous.data, message=form.message.data or "", now=_now(),
                                  rules=_rules(), actor_id=current_user.id)
        except pledges.PledgeInvalid as exc:
            session.rollback()
            form.show_errors(exc.errors)
        else:
            session.commit()
            flash(_("Your pledge has been changed."), "success")
            if pledge.status == "pending_setup":  # still needs its payment method
                return redirect(url_for("pledges.pay", pledge_id=pledge.id))
            return redirect(url_for("pledges.mine"))
    return render_template("pledges/edit.html", form=form, pledge=pledge, project=pledge.project), \
        422 if form.errors else 200


@bp.post("/pledges/<int:pledge_id>/cancel")
@login_required
def cancel(pledge_id: int):
    pledge = _own(pledge_id)
    pledges.cancel_pledge(db.session(), pledge, actor_id=current_user.id, now=_now(), reason="cancelled by the backer")
    db.session().commit()
    flash(_("Your pledge has been cancelled. Nothing will be charged."), "success")
    return redirect(url_for("pledges.mine"))


def notify_confirmed(pledge: Pledge) -> None:
    """Mail the backer that the pledge is active, in their language; the pledge stands if the mail fails."""
    backer, project = pledge.backer, pledge.project
    try:
        with force_locale(backer.locale or "de"):
            mail.send_template(backer.email, _("Your pledge for “%(title)s” is confirmed", title=project.title),
                               "pledge_confirmed", user=backer, pledge=pledge, project=project,
                               link=url_for("pledges.mine", _external=True))
    except (OSError, smtplib.SMTPException):
        log.exception("Could not mail %s about pledge %s", backer.email, pledge.id)


def _own(pledge_id: int) -> Pledge:
    pledge = db.session().get(Pledge, pledge_id)
    if pledge is None or pledge.backer_id != current_user.id:
        abort(404)
    return pledge


def _to_existing(pledge: Pledge):
    flash(_("You already back this project. You can change your pledge here."), "info")
    if pledge.status == "pending_setup":
        return redirect(url_for("pledges.pay", pledge_id=pledge.id))
    return redirect(url_for("pledges.edit", pledge_id=pledge.id))


def _preselect(form: PledgeForm, project) -> None:
    chosen = request.args.get("reward", "")
    reward = next((r for r in project.rewards if str(r.id) == chosen), None)
    if reward is not None:
        form.reward.data = str(reward.id)
        form.amount_eur.data = reward.min_amount_cents


def _form_data(pledge: Pledge) -> dict[str, object]:
    return {"amount_eur": pledge.amount_cents, "reward": str(pledge.reward_id or ""), "anonymous": pledge.anonymous,
            "message": pledge.message}


def _rules() -> PledgeRules:
    return PledgeRules.from_config(current_app.config)


def _now() -> datetime:
    return datetime.now(UTC)

