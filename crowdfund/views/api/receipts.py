"""A backer's receipts through the API: the list, and the PDF of one (anybody else's: 404)."""

from __future__ import annotations

from flask import abort, url_for
from flask_smorest import Blueprint

from crowdfund import db
from crowdfund.auth import bearer_user, token_required
from crowdfund.domain.roles import Role
from crowdfund.schemas.receipts import ReceiptSchema
from crowdfund.services import receipts
from crowdfund.views.receipts import pdf_response

blp = Blueprint("api_receipts", __name__, url_prefix="/api/v1", description="Receipts of the token's owner")


@blp.route("/me/receipts")
@blp.response(200, ReceiptSchema(many=True))
@blp.alt_response(401, description="Missing or invalid token")
@blp.doc(security=[{"bearerAuth": []}])
@token_required()
def my_receipts():
    """List the token owner's receipts, newest first."""
    rows = receipts.receipts_of_backer(db.session(), bearer_user().id)
    return [{"number": r.number, "kind": r.kind, "status": r.status, "issue_date": r.issue_date,
             "amount_cents": r.amount_cents, "currency": r.currency, "project_id": r.project_id,
             "project_title": r.project.title, "sha256": r.sha256,
             "pdf_url": url_for("api_receipts.receipt_pdf", number=r.number) if r.status == "issued" else None}
            for r in rows]


@blp.route("/receipts/<number>.pdf")
@blp.doc(security=[{"bearerAuth": []}], responses={"200": {"description": "The stored PDF, byte for byte",
                                                          "content": {"application/pdf": {}}},
                                                   "401": {"description": "Missing or invalid token"},
                                                   "404": {"description": "No such receipt of yours"}})
@token_required()
def receipt_pdf(number: str):
    """Download one of the token owner's receipts (finance and admin: any)."""
    user = bearer_user()
    session = db.session()
    receipt = receipts.visible_receipt(session, number, user_id=user.id,
                                       sees_all=user.has_role(Role.FINANCE, Role.ADMIN)) or abort(404)
    return pdf_response(receipt, receipts.stored_pdf(session, receipt.id))
