"""The admins' contests: list, create and edit, with the windows typed in Kassel's local time."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.roles import Role
from crowdfund.forms.contests import ContestForm, contest_form_data
from crowdfund.forms.messages import attach_errors
from crowdfund.models.contests import Contest
from crowdfund.services import contests
from crowdfund.services.contests import ContestInvalid

bp = Blueprint("contests", __name__, url_prefix="/admin/contests")


@bp.get("")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/contests.html", contests=contests.list_contests(db.session()))


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    form = ContestForm()
    if form.validate_on_submit():
        try:
            contests.create_contest(db.session(), form.contest_data())
        except ContestInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            return _saved()
    return _render(form, None)


@bp.route("/<int:contest_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(contest_id: int):
    contest = db.session().get(Contest, contest_id) or abort(404)
    form = ContestForm(formdata=None, data=contest_form_data(contest)) if request.method == "GET" else ContestForm()
    if form.validate_on_submit():
        try:
            contests.update_contest(db.session(), contest, form.contest_data())
        except ContestInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            return _saved()
    return _render(form, contest)


def _saved():
    db.session().commit()
    flash(_("The contest has been saved."), "success")
    return redirect(url_for(".index"))


def _render(form: ContestForm, contest: Contest | None):
    status = 422 if form.errors else 200
    return render_template("admin/contests_form.html", form=form, contest=contest), status
