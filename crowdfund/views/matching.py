"""The admins' matching pots: the list with what each pot has reserved, realised and left; create and edit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.roles import Role
from crowdfund.forms.matching import PotForm, pot_form_data
from crowdfund.models.matching import MatchingPot
from crowdfund.services import contests, matching
from crowdfund.services.matching import PotInvalid

bp = Blueprint("matching", __name__, url_prefix="/admin/pots")


@bp.get("")
@role_required(Role.ADMIN)
def index():
    return render_template("matching/index.html", rows=matching.pot_overview(db.session()))


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    form = _form(PotForm())
    if form.validate_on_submit():
        try:
            matching.create_pot(db.session(), form.pot_data(), actor_id=current_user.id)
        except PotInvalid as exc:
            form.attach(exc)
        else:
            return _saved()
    return _render(form, None)


@bp.route("/<int:pot_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(pot_id: int):
    pot = db.session().get(MatchingPot, pot_id) or abort(404)
    form = _form(PotForm(formdata=None, data=pot_form_data(pot)) if request.method == "GET" else PotForm())
    if form.validate_on_submit():
        try:
            matching.update_pot(db.session(), pot.id, form.pot_data(), actor_id=current_user.id)
        except PotInvalid as exc:
            form.attach(exc)
        else:
            return _saved()
    return _render(form, pot)


def _form(form: PotForm) -> PotForm:
    form.set_contests(contests.list_contests(db.session()))
    return form


def _saved():
    db.session().commit()
    flash(_("The matching pot has been saved."), "success")
    return redirect(url_for(".index"))


def _render(form: PotForm, pot: MatchingPot | None):
    status = 422 if form.errors else 200
    return render_template("matching/form.html", form=form, pot=pot), status
