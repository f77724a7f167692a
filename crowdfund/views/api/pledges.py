"""The token owner's pledges: start one, confirm it after Stripe.js, read, list and cancel.

Errors name the field: 422 for a bad amount, reward or payment method type; 409 for a sold-out reward, a
second open pledge for the same project, or a campaign past its deadline; 503 without a payment provider."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import default_exceptions

from crowdfund import db
from crowdfund.auth import bearer_user, token_required
from crowdfund.errors import json_error
from crowdfund.gateway import PaymentsUnavailable, payment_gateway
from crowdfund.models.pledges import Pledge
from crowdfund.schemas.pledges import (
    PledgeConfirmedSchema,
    PledgeCreateSchema,
    PledgeListSchema,
    PledgeSchema,
    PledgeStartedSchema,
)
from crowdfund.services import pledges
from crowdfund.services.pledges import ConfirmOutcome, PledgeRules
from crowdfund.views.pledges import notify_confirmed

blp = Blueprint("api_pledges", __name__, url_prefix="/api/v1",
                description="Pledges of the token's owner: start, confirm, read, cancel")
SECURITY = [{"bearerAuth": []}]
PROBLEMS = {
    "too_small": "Below the minimum pledge.",
    "too_large": "Above the maximum pledge.",
    "below_reward": "Below the minimum amount of the chosen reward.",
    "sold_out": "Every unit of this reward is taken.",
    "unknown": "Not one of the allowed values for this project.",
    "too_long": "Too long.",
}


def _error(code: int, message: str, errors: dict[str, list[str]] | None = None):
    db.session().rollback()
    exc = default_exceptions[code]()
    exc.data = {"message": message, **({"errors": errors} if errors else {})}  # type: ignore[attr-defined]
    return json_error(exc)


@blp.errorhandler(pledges.PledgeInvalid)
def invalid(exc: pledges.PledgeInvalid):
    errors = {field: [f"{code}: {PROBLEMS.get(code, code)}"] for field, code in exc.errors.items()}
    code = 409 if isinstance(exc, pledges.RewardSoldOut) else 422
    return _error(code, "The pledge was not accepted; see `errors`.", errors)


@blp.errorhandler(pledges.PledgeExists)
def exists(exc: pledges.PledgeExists):
    return _error(409, f"You already have an open pledge ({exc.pledge.id}) for this project; change or cancel it.",
                  {"project": [f"already_backed: pledge {exc.pledge.id}"]})


@blp.errorhandler(pledges.PledgeClosed)
@blp.errorhandler(pledges.PledgeNotChangeable)
def closed(exc: pledges.PledgeError):
    return _error(409, "The campaign is closed or the pledge is no longer open: nothing was changed.")


@blp.errorhandler(PaymentsUnavailable)
@blp.errorhandler(pledges.PaymentProviderError)
def unavailable(exc: Exception):
    if isinstance(exc, PaymentsUnavailable):
        return _error(503, "Pledging is not available: no payment provider is configured.")
    down = getattr(exc, "unavailable", True)
    return _error(503 if down else 502, "The payment provider failed; nothing was saved. Please try again later.")


@blp.route("/projects/<slug>/pledges", methods=["POST"])
@token_required()  # outside the argument parser: without a token it is 401, whatever the body
@blp.arguments(PledgeCreateSchema)
@blp.response(201, PledgeStartedSchema)
@blp.alt_response(400, description="The body is not JSON")
@blp.alt_response(401, description="Missing or invalid token")
@blp.alt_response(404, description="No public campaign with this slug")
@blp.alt_response(409, description="Reward sold out, already an open pledge, or the campaign is closed")
@blp.alt_response(422, description="Invalid amount, reward or payment method type; `errors` names the field")
@blp.alt_response(503, description="No payment provider configured or reachable")
@blp.doc(security=SECURITY)
def create_pledge(args: dict[str, Any], slug: str):
    """Start a pledge: it stays `pending_setup` until its SetupIntent is confirmed (Stripe.js) and
    `POST /api/v1/pledges/<id>/confirm` finds it succeeded."""
    session = db.session()
    project = pledges.public_project(session, slug) or abort(404, message="No public campaign with this slug.")
    started = pledges.start_pledge(session, payment_gateway(), project=project, backer=bearer_user(),
                                   now=_now(), rules=PledgeRules.from_config(current_app.config), **args)
    session.commit()
    return {"id": started.pledge.id, "status": started.pledge.status, "setup_intent_id": started.setup_intent.id,
            "client_secret": started.setup_intent.client_secret,
            "publishable_key": current_app.config["STRIPE_PUBLISHABLE_KEY"]}


@blp.route("/pledges/<int:pledge_id>/confirm", methods=["POST"])
@token_required()
@blp.response(200, PledgeConfirmedSchema)
@blp.alt_response(401, description="Missing or invalid token")
@blp.alt_response(404, description="No pledge of yours with this id")
@blp.alt_response(409, description="The pledge is not pending or the campaign is closed")
@blp.doc(security=SECURITY)
def confirm_pledge(pledge_id: int):
    """Ask the provider about the pledge's SetupIntent; the pledge becomes `active` once it succeeded.

    If saving failed, a usable SetupIntent's `client_secret` comes back to try again."""
    pledge, session, gateway = _own(pledge_id), db.session(), payment_gateway()
    result = pledges.confirm_pledge(session, gateway, pledge, actor_id=pledge.backer_id, now=_now())
    failed = result.outcome == ConfirmOutcome.FAILED
    retry = pledges.payment_setup(session, gateway, pledge, now=_now()) if failed else None
    session.commit()
    if result.outcome == ConfirmOutcome.ACTIVATED:
        notify_confirmed(pledge)
    return {"id": pledge.id, "status": pledge.status, "setup_intent_status": result.setup_intent_status,
            "error": result.error, "setup_intent_id": pledge.setup_intent_id,
            "client_secret": retry.client_secret if retry else None}


@blp.route("/pledges/<int:pledge_id>", methods=["GET"])
@token_required()
@blp.response(200, PledgeSchema)
@blp.alt_response(401, description="Missing or invalid token")
@blp.alt_response(404, description="No pledge of yours with this id")
@blp.doc(security=SECURITY)
def get_pledge(pledge_id: int):
    """Return one of your pledges."""
    return _own(pledge_id)


@blp.route("/pledges/<int:pledge_id>", methods=["DELETE"])
@token_required()
@blp.response(200, PledgeSchema)
@blp.alt_response(401, description="Missing or invalid token")
@blp.alt_response(404, description="No pledge of yours with this id")
@blp.alt_response(409, description="After the deadline, or the pledge is no longer open")
@blp.doc(security=SECURITY)
def cancel_pledge(pledge_id: int):
    """Cancel a pending or active pledge before the deadline; its reward unit becomes free again."""
    pledge = _own(pledge_id)
    pledges.cancel_pledge(db.session(), pledge, actor_id=pledge.backer_id, now=_now(),
                          reason="cancelled by the backer (API)")
    db.session().commit()
    return pledge


@blp.route("/me/pledges", methods=["GET"])
@token_required()
@blp.response(200, PledgeListSchema)
@blp.alt_response(401, description="Missing or invalid token")
@blp.doc(security=SECURITY)
def my_pledges():
    """List your pledges, newest first."""
    return {"items": pledges.backer_pledges(db.session(), bearer_user())}


def _own(pledge_id: int) -> Pledge:
    pledge = db.session().get(Pledge, pledge_id)
    if pledge is None or pledge.backer_id != bearer_user().id:
        abort(404, message="No pledge of yours with this id.")
    return pledge


def _now() -> datetime:
    return datetime.now(UTC)
