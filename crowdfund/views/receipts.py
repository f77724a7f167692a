"""A backer's receipts: the list, the address for receipts, and downloads (own only; finance and admin all)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crowdfund import db
from crowdfund.auth import login_required
from crowdfund.domain.roles import Role
from crowdfund.forms.finance import ReceiptAddressForm
from crowdfund.models.receipts import Receipt, ReceiptAddress
from crowdfund.services import receipts

bp = Blueprint("account_receipts", __name__)


def pdf_response(receipt: Receipt, pdf: bytes) -> Response:
    """Answer with the stored bytes as they are; the SHA-256 stored beside them is the ETag."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{receipt.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(receipt.sha256 or "")
    return response


def _render(form: ReceiptAddressForm, status: int = 200):
    rows = receipts.receipts_of_backer(db.session(), current_user.id)
    return render_template("account_receipts/list.html", receipts=rows, form=form), status


@bp.get("/account/receipts")
@login_required
def mine():
    address = db.session().scalars(select(ReceiptAddress).where(ReceiptAddress.user_id == current_user.id)).first()
    form = ReceiptAddressForm(formdata=None, obj=address, name=address.name if address else current_user.name)
    return _render(form)


@bp.post("/account/receipts/address")
@login_required
def save_address():
    form = ReceiptAddressForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    session = db.session()
    address = session.scalars(select(ReceiptAddress).where(ReceiptAddress.user_id == current_user.id)).first()
    if address is None:
        address = ReceiptAddress(user_id=current_user.id)
        session.add(address)
    address.name, address.address = form.name.data.strip(), form.address.data.strip()
    session.commit()
    flash(_("Your address for receipts is saved. Receipts already issued stay as they are."), "success")
    return redirect(url_for(".mine"))


@bp.get("/receipts/<number>.pdf")
@login_required
def download(number: str):
    session = db.session()
    receipt = receipts.visible_receipt(session, number, user_id=current_user.id,
                                       sees_all=current_user.has_role(Role.FINANCE, Role.ADMIN)) or abort(404)
    return pdf_response(receipt, receipts.stored_pdf(session, receipt.id))
