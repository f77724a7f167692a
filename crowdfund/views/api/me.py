from __future__ import annotations

from flask_smorest import Blueprint

from crowdfund.auth import bearer_user, token_required
from crowdfund.schemas.users import MeSchema

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The token's owner")


@blp.route("")
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Missing or invalid token")
@blp.doc(security=[{"bearerAuth": []}])
@token_required()
def get_me():
    """Return the account the Bearer token belongs to."""
    user = bearer_user()
    return {"id": user.id, "email": user.email, "name": user.name, "locale": user.locale,
            "roles": sorted(role.value for role in user.roles)}
