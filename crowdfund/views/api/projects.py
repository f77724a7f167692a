"""Public campaigns as JSON: no token needed, only public projects, totals from counting pledges."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint, abort

from crowdfund import db
from crowdfund.page_cache import cached_public
from crowdfund.schemas.projects import ProjectDetailSchema, ProjectPageSchema, ProjectQuerySchema
from crowdfund.services import campaigns
from crowdfund.services.campaigns import CampaignFilter, Sort

blp = Blueprint("api_projects", __name__, url_prefix="/api/v1/projects",
                description="Public campaigns (live and past) with their totals")


@blp.route("")
@cached_public
@blp.arguments(ProjectQuerySchema, location="query")
@blp.response(200, ProjectPageSchema)
def list_projects(args: dict[str, Any]):
    """List public campaigns, newest first unless `sort` says otherwise.

    An unknown `district`, `category`, `state` or `sort` answers 422 with the field named in `errors`."""
    page_size = args.pop("page_size")
    flt = CampaignFilter(**{**args, "sort": Sort(args["sort"])})
    try:
        page = campaigns.list_campaigns(db.session(), flt, page_size=page_size)
    except campaigns.UnknownDistrict:
        abort(422, errors={"district": [f"Unknown district {flt.district!r}; see /districts for the slugs."]})
    return page


@blp.route("/<slug>")
@cached_public
@blp.response(200, ProjectDetailSchema)
@blp.alt_response(404, response="NOT_FOUND", description="No public campaign with this slug")
def get_project(slug: str):
    """Return one public campaign with its description, rewards and updates."""
    campaign = campaigns.get_campaign(db.session(), slug)
    if campaign is None:
        abort(404, message="No public campaign with this slug.")
    return campaign
