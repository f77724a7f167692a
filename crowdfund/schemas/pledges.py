"""Pledges in the JSON API: what a backer sends to pledge, and what the API answers.

Amounts are integer cents; `status` is one of the pledge lifecycle's statuses (pending_setup, active,
cancelled, ...); timestamps are ISO 8601 with the Europe/Berlin offset."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowdfund.domain.pledges import PledgeStatus
from crowdfund.schemas.projects import LocalDateTime
from crowdfund.services.pledges import MESSAGE_MAX_LENGTH
from payments.gateway import PAYMENT_METHOD_TYPES

STATUSES = [s.value for s in PledgeStatus]


NO_NUL = validate.Regexp(r"^[^\x00]*\Z", error="Must not contain NUL characters.")


class PledgeCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    amount_cents = ma.fields.Integer(required=True, strict=True,
                                     metadata={"description": "At least the configured minimum (and the reward's)"})
    reward_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                  validate=validate.Range(min=1, max=2**31 - 1),
                                  metadata={"description": "A reward of this project; null: no reward"})
    anonymous = ma.fields.Boolean(load_default=False, metadata={"description": "Hide the name on public pages"})
    message = ma.fields.String(load_default="", validate=[validate.Length(max=MESSAGE_MAX_LENGTH), NO_NUL])
    payment_method_type = ma.fields.String(load_default="card", validate=validate.OneOf(sorted(PAYMENT_METHOD_TYPES)))


class PledgeStartedSchema(ma.Schema):
    """A new pledge: confirm `client_secret` with Stripe.js, then POST /api/v1/pledges/<id>/confirm."""

    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    setup_intent_id = ma.fields.String(required=True)
    client_secret = ma.fields.String(required=True)
    publishable_key = ma.fields.String(required=True)


class PledgeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    project = ma.fields.String(required=True, attribute="project.slug", metadata={"description": "Project slug"})
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    amount_cents = ma.fields.Integer(required=True)
    currency = ma.fields.String(required=True)
    reward_id = ma.fields.Integer(required=True, allow_none=True)
    anonymous = ma.fields.Boolean(required=True)
    message = ma.fields.String(required=True)
    payment_method_type = ma.fields.String(required=True, allow_none=True)
    setup_intent_id = ma.fields.String(required=True, allow_none=True)
    created_at = LocalDateTime(required=True)


class PledgeListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PledgeSchema), required=True)


class PledgeConfirmedSchema(ma.Schema):
    """The pledge after asking the provider: `active` once the SetupIntent succeeded.

    If saving failed, `error` says why and `client_secret` is the SetupIntent to confirm next."""

    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    setup_intent_status = ma.fields.String(required=True, allow_none=True)
    error = ma.fields.String(required=True, allow_none=True)
    setup_intent_id = ma.fields.String(required=True, allow_none=True)
    client_secret = ma.fields.String(required=True, allow_none=True)
