from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from crowdfund import db
from crowdfund.auth import login_required
from crowdfund.forms.auth import ChangePasswordForm, EmptyForm, ProfileForm, TokenForm
from crowdfund.services import accounts

bp = Blueprint("account", __name__, url_prefix="/account")


def _render(status: int = 200, **forms):
    locale = current_user.locale or session.get("lang", "de")
    # Forms that were not submitted must not pick up the submitted form's fields.
    forms.setdefault("profile_form", ProfileForm(formdata=None, obj=current_user, locale=locale))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("token_form", TokenForm(formdata=None))
    tokens = [t for t in current_user.tokens if t.revoked_at is None]
    return render_template("account/profile.html", tokens=tokens, revoke_form=EmptyForm(), **forms), status


@bp.get("/")
@login_required
def profile():
    return _render()


@bp.post("/")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render(422, profile_form=form)
    current_user.name = form.name.data.strip()
    accounts.set_locale(db.session(), current_user, form.locale.data)
    session["lang"] = form.locale.data
    db.session().commit()
    flash(_("Your profile has been saved."), "success")
    return redirect(url_for("account.profile"))


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if accounts.authenticate(db.session(), current_user.email, form.current.data) is None:
            form.current.errors.append(_("The current password is wrong."))
        else:
            accounts.set_password(db.session(), current_user, form.password.data, actor_id=current_user.id)
            db.session().commit()
            login_user(current_user._get_current_object())  # re-sign this session; others are now logged out
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("account.profile"))
    return _render(422, password_form=form)


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(422, token_form=form)
    raw, _row = accounts.create_api_token(db.session(), current_user, form.name.data)
    db.session().commit()
    flash(_("Your new API token is shown only once. Copy it now."), "success")
    return _render(200, new_token=raw)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if EmptyForm().validate_on_submit() and accounts.revoke_api_token(db.session(), current_user, token_id):
        db.session().commit()
        flash(_("The token has been revoked."), "success")
    else:
        flash(_("This token does not exist or was already revoked."), "error")
    return redirect(url_for("account.profile"))
