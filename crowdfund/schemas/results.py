"""A contest's published results in the JSON API.

Scores are decimals rounded to 3 places (jury score, points of 100) or 4 (final score, 0..1); amounts are
integer cents. Per-juror scores are never published."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for

from crowdfund.schemas.projects import LocalDateTime
from crowdfund.services.jury_exports import number


class ResultEntrySchema(ma.Schema):
    position = ma.fields.Integer(required=True, metadata={"description": "In the jury's recorded decision"})
    slug = ma.fields.String(required=True, attribute="project.slug")
    title = ma.fields.String(required=True, attribute="project.title")
    district = ma.fields.String(required=True, attribute="project.district.slug")
    jury_score = ma.fields.Method("jury", required=True, allow_none=True,
                                  metadata={"type": "number", "description": "Points of 100"})
    scorecards = ma.fields.Method("cards", required=True, metadata={"type": "integer"})
    crowd_backers = ma.fields.Integer(required=True, attribute="crowd.backers",
                                      metadata={"description": "Distinct backers above the minimum, not the team"})
    crowd_amount_cents = ma.fields.Integer(required=True, attribute="crowd.amount_cents")
    crowd_percent_of_threshold = ma.fields.Integer(required=True, attribute="crowd.percent")
    final_score = ma.fields.Method("final_value", required=True, allow_none=True,
                                   metadata={"type": "number", "description": "0..1"})
    prize_cents = ma.fields.Integer(required=True)
    url = ma.fields.Method("campaign_url", required=True, metadata={"type": "string", "format": "uri"})

    def jury(self, row: Any) -> float | None:
        return number(row.jury_score)

    def cards(self, row: Any) -> int:
        return row.stats.count if row.stats else 0

    def final_value(self, row: Any) -> float | None:
        return number(row.final.final, 4) if row.final else None

    def campaign_url(self, row: Any) -> str:
        return url_for("campaigns.detail", slug=row.project.slug, _external=True)


class ContestResultsSchema(ma.Schema):
    contest = ma.fields.String(required=True, attribute="contest.slug")
    name = ma.fields.String(required=True, attribute="contest.name")
    published_at = LocalDateTime(required=True, attribute="config.published_at")
    ranking_rule = ma.fields.String(required=True, attribute="config.ranking_rule",
                                    metadata={"description": "weighted | preselect"})
    jury_weight = ma.fields.String(required=True, attribute="config.jury_weight",
                                   metadata={"description": "w in w x jury + (1 - w) x crowd, as a fraction"})
    method = ma.fields.String(required=True, metadata={"description": "mean | offset | mean_disconnected"})
    prize_pot_cents = ma.fields.Integer(required=True, attribute="config.prize_pot_cents")
    decision_reason = ma.fields.String(required=True, attribute="config.decision_reason")
    entries = ma.fields.Method("ranked", required=True, metadata={"type": "array", "items": {"type": "object"}})

    def ranked(self, results: Any) -> list[dict[str, Any]]:
        return ResultEntrySchema(many=True).dump([r for r in results.rows if r.position is not None])
