"""The admins' jury set-up: phase, settings, panel, criteria, conflicts and the assignment of entries.

Every form posts to its own route and comes back to the overview; a refused action is a flash message
(409 for the wrong phase), invalid input re-renders the overview with the errors (422)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.jury import Phase, allowed_actions
from crowdfund.domain.roles import Role
from crowdfund.forms.auth import EmptyForm
from crowdfund.forms.jury import (
    AdminConflictForm,
    CriterionForm,
    PanelForm,
    PhaseForm,
    SettingsForm,
    attach_jury_errors,
    criterion_form_data,
    error_message,
    settings_form_data,
)
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryConflict, JuryCriterion
from crowdfund.models.projects import Project
from crowdfund.models.users import User, UserRole
from crowdfund.services import contests, jury, jury_scoring, jury_settings
from crowdfund.services.jury import JuryError

bp = Blueprint("jury_admin", __name__, url_prefix="/admin/jury")


def admin_contest(slug: str) -> Contest:
    return jury.contest_by_slug(db.session(), slug) or abort(404)


@bp.errorhandler(JuryError)
def refused(exc: JuryError):
    db.session().rollback()
    flash(error_message(exc.code), "error")
    return redirect(url_for(".overview", slug=request.view_args["slug"])), 303  # type: ignore[index]


@bp.get("")
@role_required(Role.ADMIN)
def index():
    return render_template("jury_admin/index.html", contests=contests.list_contests(db.session()))


@bp.get("/<slug>")
@role_required(Role.ADMIN)
def overview(slug: str):
    return render_overview(admin_contest(slug))


@bp.post("/<slug>/phase")
@role_required(Role.ADMIN)
def phase(slug: str):
    contest, form = admin_contest(slug), PhaseForm()
    if not form.validate_on_submit():
        abort(400)
    changed = jury.change_phase(db.session(), contest, form.action.data, actor=current_user, now=utcnow())
    return _done(slug, _("The jury's phase has been changed.") if changed else _("Nothing has changed."))


@bp.post("/<slug>/settings")
@role_required(Role.ADMIN)
def settings(slug: str):
    contest, form = admin_contest(slug), SettingsForm()
    if form.validate_on_submit():
        try:
            jury_settings.save_settings(db.session(), jury.get_config(db.session(), contest), form.settings_data(),
                                        actor=current_user)
        except JuryError as exc:
            if not exc.errors:
                raise
            attach_jury_errors(form, exc.errors)
        else:
            return _done(slug, _("The settings have been saved."))
    return render_overview(contest, settings_form=form)


@bp.post("/<slug>/panel")
@role_required(Role.ADMIN)
def add_juror(slug: str):
    contest, form = admin_contest(slug), PanelForm()
    form.user.choices = _juror_choices()
    if not form.validate_on_submit():
        return render_overview(contest, panel_form=form)
    jury_settings.add_juror(db.session(), contest, db.session().get(User, form.user.data), actor=current_user)
    return _done(slug, _("The juror has been added to the panel."))


@bp.post("/<slug>/panel/<int:user_id>/remove")
@role_required(Role.ADMIN)
def remove_juror(slug: str, user_id: int):
    contest = admin_contest(slug)
    user = db.session().get(User, user_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    jury_settings.remove_juror(db.session(), contest, user, actor=current_user)
    return _done(slug, _("The juror has been removed from the panel."))


@bp.post("/<slug>/criteria")
@bp.post("/<slug>/criteria/<int:criterion_id>")
@role_required(Role.ADMIN)
def save_criterion(slug: str, criterion_id: int | None = None):
    contest, form = admin_contest(slug), CriterionForm()
    criterion = _criterion(contest, criterion_id) if criterion_id else None
    if form.validate_on_submit():
        try:
            jury_settings.save_criterion(db.session(), contest, form.criterion_data(), actor=current_user,
                                         criterion=criterion)
        except JuryError as exc:
            if not exc.errors:
                raise
            attach_jury_errors(form, exc.errors)
        else:
            return _done(slug, _("The criterion has been saved."))
    if criterion is not None:
        return render_template("jury_admin/criterion.html", contest=contest, criterion=criterion, form=form), 422
    return render_overview(contest, criterion_form=form)


@bp.get("/<slug>/criteria/<int:criterion_id>")
@role_required(Role.ADMIN)
def edit_criterion(slug: str, criterion_id: int):
    contest = admin_contest(slug)
    criterion = _criterion(contest, criterion_id)
    form = CriterionForm(formdata=None, data=criterion_form_data(criterion))
    return render_template("jury_admin/criterion.html", contest=contest, criterion=criterion, form=form)


@bp.post("/<slug>/criteria/<int:criterion_id>/delete")
@role_required(Role.ADMIN)
def delete_criterion(slug: str, criterion_id: int):
    contest = admin_contest(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    jury_settings.delete_criterion(db.session(), contest, _criterion(contest, criterion_id), actor=current_user)
    return _done(slug, _("The criterion has been removed."))


@bp.post("/<slug>/conflicts")
@role_required(Role.ADMIN)
def add_conflict(slug: str):
    session, contest = db.session(), admin_contest(slug)
    form = _conflict_form(contest)
    if not form.validate_on_submit():
        return render_overview(contest, conflict_form=form)
    jury.declare_conflict(session, contest, session.get(User, form.juror.data), session.get(Project, form.project.data),
                          form.kind.data, form.note.data or "", actor=current_user)
    return _done(slug, _("The conflict of interest has been recorded."))


@bp.post("/<slug>/conflicts/<int:conflict_id>/delete")
@role_required(Role.ADMIN)
def delete_conflict(slug: str, conflict_id: int):
    contest = admin_contest(slug)
    conflict = db.session().get(JuryConflict, conflict_id)
    if conflict is None or conflict.contest_id != contest.id or not EmptyForm().validate_on_submit():
        abort(404)
    jury.remove_conflict(db.session(), contest, conflict, actor=current_user)
    return _done(slug, _("The conflict of interest has been withdrawn."))


@bp.post("/<slug>/assignment")
@role_required(Role.ADMIN)
def assign(slug: str):
    contest = admin_contest(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    short = jury.assign_entries(db.session(), contest, actor=current_user)
    if short:
        flash(_("%(n)s entries have fewer eligible jurors than asked for; they get every eligible juror.",
                n=len(short)), "info")
    return _done(slug, _("The entries have been assigned."))


def _done(slug: str, message: str):
    db.session().commit()
    flash(message, "success")
    return redirect(url_for(".overview", slug=slug))


def _criterion(contest: Contest, criterion_id: int) -> JuryCriterion:
    criterion = db.session().get(JuryCriterion, criterion_id)
    if criterion is None or criterion.contest_id != contest.id:
        abort(404)
    return criterion


def _juror_choices() -> list[tuple[int, str]]:
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.JUROR.value, User.active.is_(True)).order_by(User.name, User.id))
    return [(u.id, f"{u.name} <{u.email}>") for u in db.session().scalars(stmt)]


def _conflict_form(contest: Contest, *, formdata: bool = True) -> AdminConflictForm:
    session = db.session()
    form = AdminConflictForm() if formdata else AdminConflictForm(formdata=None)
    form.juror.choices = [(u.id, u.name) for u in jury.panel(session, contest)]
    form.project.choices = [(p.id, p.title) for p in jury.entries(session, contest)]
    return form


def render_overview(contest: Contest, **forms):
    """Render the set-up page; forms passed in (with their errors) replace the fresh ones, answered with 422."""
    session = db.session()
    config = jury.get_config(session, contest)
    panel_form = forms.get("panel_form") or PanelForm(formdata=None)
    panel_form.user.choices = _juror_choices()
    page = {
        "settings_form": SettingsForm(formdata=None, data=settings_form_data(config)), "panel_form": panel_form,
        "criterion_form": CriterionForm(formdata=None), "conflict_form": _conflict_form(contest, formdata=False),
        **forms,
    }
    return render_template("jury_admin/overview.html", contest=contest, config=config, phase=Phase(config.phase),
                           actions=allowed_actions(config.phase), phase_form=PhaseForm(formdata=None),
                           panel=jury.panel(session, contest), criteria=jury_settings.criteria(session, contest),
                           conflicts=jury.conflicts(session, contest), entries=jury.entries(session, contest),
                           progress=jury_scoring.panel_progress(session, contest), action_form=EmptyForm(formdata=None),
                           **page), 422 if forms else 200
