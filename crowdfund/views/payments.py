"""The provider's webhook (CSRF-exempt, signed instead) and the backer's fix-the-payment page."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import ServiceUnavailable

from crowdfund import db
from crowdfund.auth import login_required
from crowdfund.errors import handle_http_exception
from crowdfund.extensions import csrf
from crowdfund.gateway import PaymentsUnavailable, payment_gateway
from crowdfund.models.pledges import Pledge
from crowdfund.payment_mail import deliver
from crowdfund.services import payments, webhooks
from crowdfund.services.payments import FixRefused
from payments.gateway import InvalidSignature, PaymentError, ProviderUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)
# Not /pledges/<id>/pay: that address is the pledge's payment-method setup page (views/pledges.py).
PAY_PAGE = "/pledges/<int:pledge_id>/payment"


@bp.errorhandler(PaymentsUnavailable)
@bp.errorhandler(PaymentError)
def provider_trouble(error: Exception):
    log.warning("Payment provider problem on %s: %s", request.path, error)
    db.session().rollback()
    if request.is_json or request.endpoint == "payments.stripe_webhook":
        return jsonify(error="payment provider unavailable"), 503  # the provider retries its webhook later
    return handle_http_exception(ServiceUnavailable())


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    session = db.session()
    signature = request.headers.get("Stripe-Signature", "")
    try:
        result = webhooks.receive_event(session, payment_gateway(), request.get_data(cache=False), signature,
                                        current_app.config["STRIPE_WEBHOOK_SECRET"])
    except InvalidSignature:
        session.rollback()
        return jsonify(error="invalid signature"), 400
    session.commit()
    deliver(result.notices)
    return jsonify(received=True, status=result.status)


def _own_pledge(pledge_id: int) -> Pledge:
    """The backer's own pledge; 404 for every other user (nobody learns whether the id exists)."""
    pledge = db.session().get(Pledge, pledge_id)
    if pledge is None or pledge.backer_id != current_user.id:
        abort(404)
    return pledge


def _ports():
    return current_app.extensions["db_sessionmaker"], current_app.extensions["db_engine"], payment_gateway()


@bp.get(PAY_PAGE)
@login_required
def pay(pledge_id: int):
    pledge = _own_pledge(pledge_id)
    factory, engine, gateway = _ports()
    plan = payments.prepare_fix(factory, engine, gateway, pledge_id)
    db.session().refresh(pledge)
    return render_template("payments/pay.html", pledge=pledge, plan=plan,
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"])


@bp.post(PAY_PAGE + "/card")
@login_required
def pay_with_card(pledge_id: int):
    _own_pledge(pledge_id)
    setup_intent_id = str((request.get_json(silent=True) or {}).get("setup_intent_id", ""))
    factory, engine, gateway = _ports()
    try:
        step = payments.pay_with_new_card(factory, engine, gateway, pledge_id, setup_intent_id)
    except FixRefused as refused:
        return jsonify(status="refused", reason=refused.code), 409
    return jsonify(status=step.status, client_secret=step.client_secret)


@bp.post(PAY_PAGE + "/complete")
@login_required
def complete(pledge_id: int):
    _own_pledge(pledge_id)
    factory, _engine, gateway = _ports()
    try:
        status = payments.complete_fix(factory, gateway, pledge_id)
    except ProviderUnavailable:
        flash(_("We could not reach the payment provider. Please try again in a moment."), "error")
        return redirect(url_for(".pay", pledge_id=pledge_id))
    if status in payments.PAID_STATES:
        flash(_("Thank you: your payment is complete."), "success")
    elif status == "action_required":
        flash(_("The payment is not complete yet."), "error")
    return redirect(url_for(".pay", pledge_id=pledge_id))
