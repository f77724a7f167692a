"""The public campaigns in the JSON API: query arguments, list items and the full campaign.

Amounts are integer cents; `district` is the district's slug (as in /districts/<slug>); timestamps are
ISO 8601 with the Europe/Berlin offset, e.g. 2027-02-28T23:59:59+01:00."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import validate

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.projects import PUBLIC_STATES
from crowdfund.formatting import local_isoformat, markdown_html
from crowdfund.services.campaigns import Sort

API_PAGE_SIZE = 20
MAX_PAGE = 10_000


class LocalDateTime(ma.fields.DateTime):
    """An aware datetime as ISO 8601 with the local (Europe/Berlin) offset, to the second."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else local_isoformat(value)


class ProjectQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    q = ma.fields.String(validate=validate.Length(max=100),
                         metadata={"description": "Search text, matched in titles and pitches"})
    district = ma.fields.String(metadata={"description": "District slug, e.g. `wesertor`"})
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))
    state = ma.fields.String(validate=validate.OneOf(sorted(PUBLIC_STATES)),
                             metadata={"description": "Only public states; empty: all of them"})
    sort = ma.fields.String(load_default=Sort.NEWEST.value, validate=validate.OneOf([s.value for s in Sort]))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(load_default=API_PAGE_SIZE, validate=validate.Range(min=1, max=100))

    @ma.pre_load
    def drop_empty(self, data: Any, **_kwargs: Any) -> dict[str, Any]:
        """Treat `?state=` like a missing argument: an empty filter is no filter."""
        return {key: data[key] for key in data if data[key] != ""}


class ProjectSchema(ma.Schema):
    """A campaign in a list: the project and its totals (only pledges that count)."""

    slug = ma.fields.String(required=True, attribute="project.slug")
    title = ma.fields.String(required=True, attribute="project.title")
    pitch = ma.fields.String(required=True, attribute="project.pitch")
    district = ma.fields.String(required=True, attribute="project.district.slug",
                                metadata={"description": "The district's slug"})
    category = ma.fields.String(required=True, attribute="project.category")
    state = ma.fields.String(required=True, attribute="project.state")
    threshold_cents = ma.fields.Integer(required=True, attribute="project.threshold_cents")
    goal_cents = ma.fields.Integer(required=True, allow_none=True, attribute="project.goal_cents")
    pledged_cents = ma.fields.Integer(required=True, metadata={"description": "Pledges that count (active to paid)"})
    matched_cents = ma.fields.Integer(required=True, metadata={
        "description": "Matched from pots that count toward the threshold (reserved or realised)"})
    backers = ma.fields.Integer(required=True, metadata={"description": "Distinct backers"})
    percent_funded = ma.fields.Integer(required=True, metadata={
        "description": "(pledged_cents + matched_cents) of the threshold, floored"})
    deadline = LocalDateTime(required=True, allow_none=True, attribute="project.deadline")
    url = ma.fields.Method("campaign_url", required=True, metadata={"type": "string", "format": "uri"})

    def campaign_url(self, campaign: Any) -> str:
        return url_for("campaigns.detail", slug=campaign.project.slug, _external=True)


class ProjectPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProjectSchema), required=True)
    total = ma.fields.Integer(required=True, metadata={"description": "Matching campaigns on all pages"})
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)


class RewardSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    min_amount_cents = ma.fields.Integer(required=True)
    quantity_total = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited"})
    quantity_left = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited"})


class UpdateSchema(ma.Schema):
    title = ma.fields.String(required=True)
    body_html = ma.fields.Method("body", required=True, metadata={"type": "string"})
    created_at = LocalDateTime(required=True)

    def body(self, update: Any) -> str:
        return str(markdown_html(update.body))


class ProjectDetailSchema(ProjectSchema):
    """A campaign with its sanitised description, rewards and updates (newest first)."""

    description_html = ma.fields.Method("description", required=True, metadata={"type": "string"})
    rewards = ma.fields.List(ma.fields.Nested(RewardSchema), required=True, attribute="project.rewards")
    updates = ma.fields.List(ma.fields.Nested(UpdateSchema), required=True, attribute="project.updates")

    def description(self, campaign: Any) -> str:
        return str(markdown_html(campaign.project.description))
