"""Data protection: the privacy notice, the imprint, a person's data export and account deletion."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from crowdfund import db
from crowdfund.auth import login_required
from crowdfund.forms.privacy import DeleteAccountForm
from crowdfund.services import accounts, privacy

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def notice():
    return render_template("privacy/notice.html")


@bp.get("/imprint")
def imprint():
    return render_template("privacy/imprint.html")


@bp.get("/account/data.json")
@login_required
def export():
    data = privacy.export_user_data(db.session(), current_user, now=datetime.now(UTC))
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="crowdfunding-kassel-data-{current_user.id}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete():
    form, sole_admin = DeleteAccountForm(), privacy.is_sole_admin(db.session(), current_user)
    if form.validate_on_submit() and not sole_admin:
        if accounts.authenticate(db.session(), current_user.email, form.password.data) is None:
            form.password.errors.append(_("The password is wrong."))
        elif _deleted():
            logout_user()
            flash(_("Your account has been deleted. Thank you for taking part."), "success")
            return redirect(url_for("main.index"))
        else:
            sole_admin = True
    status = 409 if sole_admin and form.is_submitted() else 422 if form.errors else 200
    return render_template("privacy/delete.html", form=form, sole_admin=sole_admin), status


def _deleted() -> bool:
    """Pseudonymise the current user and commit; False if they turned out to be the last admin."""
    session = db.session()
    try:
        privacy.delete_account(session, current_user._get_current_object(), now=datetime.now(UTC))
    except privacy.SoleAdmin:  # the other admin was deleted in the meantime
        session.rollback()
        return False
    session.commit()
    return True
