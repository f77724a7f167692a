"""A contest's results as JSON: public once the jury has published them, 404 before."""

from __future__ import annotations

from flask_smorest import Blueprint, abort

from crowdfund import db
from crowdfund.db import utcnow
from crowdfund.page_cache import cached_public
from crowdfund.schemas.results import ContestResultsSchema
from crowdfund.services import jury_results

blp = Blueprint("api_results", __name__, url_prefix="/api/v1/contests",
                description="Published contest results: ranking, jury score, crowd index and prizes")


@blp.route("/<slug>/results")
@cached_public
@blp.response(200, ContestResultsSchema)
@blp.alt_response(404, response="NOT_FOUND", description="No contest with this slug, or results not yet published")
def get_results(slug: str):
    """Return the published ranking of a contest, in the order of the jury's decision."""
    results = jury_results.published_results(db.session(), slug, utcnow())
    if results is None:
        abort(404, message="No published results for this contest.")
    return results
