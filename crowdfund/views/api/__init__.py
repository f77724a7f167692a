"""JSON API under /api/v1 (flask-smorest). Authentication is by personal Bearer token only."""

from __future__ import annotations

from flask_smorest import Api

from crowdfund.extensions import csrf

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "Personal API token (cfk_...)"}


def register(api: Api) -> None:
    from crowdfund.views.api import me, pledges, projects
    from crowdfund.views.api import receipts as receipts_api
    from crowdfund.views.api import results as results_api

    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    for blueprint in (me.blp, projects.blp, pledges.blp, results_api.blp, receipts_api.blp):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
