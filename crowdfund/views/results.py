"""The public results of a contest, once the jury has published them (404 before)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from crowdfund import db
from crowdfund.db import utcnow
from crowdfund.page_cache import cached_public
from crowdfund.services import jury_results

bp = Blueprint("results", __name__)


@bp.get("/contests/<slug>/results")
@cached_public
def show(slug: str):
    results = jury_results.published_results(db.session(), slug, utcnow()) or abort(404)
    return render_template("results/show.html", results=results)
