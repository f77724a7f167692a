"""The initiator's side: my pitches, create, edit, preview, submit, withdraw, updates; cover images."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.projects import EDITABLE_STATES, PUBLIC_STATES, IllegalTransition, ProjectAction, ProjectState
from crowdfund.domain.roles import Role
from crowdfund.forms.auth import EmptyForm
from crowdfund.forms.messages import attach_errors
from crowdfund.forms.projects import RENAMES, STATE_LABELS, ProjectForm, StockForm, UpdateForm, project_form_data
from crowdfund.markdown import render_markdown
from crowdfund.models.contests import Contest
from crowdfund.models.projects import Project
from crowdfund.services import campaigns, contests, projects, reviews
from crowdfund.services.projects import NotEditable, ProjectInvalid
from crowdfund.services.rewards import STOCK_STATES

bp = Blueprint("projects", __name__)
MY = "/my/projects/<int:project_id>"

DONE = {
    ProjectAction.SUBMIT: _l("Your pitch has been submitted for review."),
    ProjectAction.WITHDRAW: _l("The pitch has been withdrawn."),
    ProjectAction.APPROVE: _l("The pitch has been approved."),
    ProjectAction.REQUEST_CHANGES: _l("The pitch has been sent back for changes."),
    ProjectAction.REJECT: _l("The pitch has been rejected."),
    ProjectAction.PUBLISH: _l("The campaign is now live."),
}


def conflict_message(exc: IllegalTransition | NotEditable) -> str:
    """Say in the user's language why an action or a change is not possible in the project's state."""
    state = STATE_LABELS[ProjectState(exc.from_state if isinstance(exc, IllegalTransition) else exc.state)]
    return _("This is not possible while the pitch is in the state “%(state)s”. The page shows what you can do now.",
             state=state)


def owned_project(project_id: int, *, admin_ok: bool = False) -> Project:
    """Load a project for its initiator (and for admins where `admin_ok`): 404 if missing, 403 otherwise."""
    project = db.session().get(Project, project_id) or abort(404)
    if project.initiator_id != current_user.id and not (admin_ok and current_user.has_role(Role.ADMIN)):
        abort(403)
    return project


@bp.errorhandler(IllegalTransition)
@bp.errorhandler(NotEditable)
def conflict(exc: IllegalTransition | NotEditable):
    db.session().rollback()
    flash(conflict_message(exc), "error")
    return render_show(owned_project(request.view_args["project_id"], admin_ok=True), 409)  # type: ignore[index]


@bp.get("/my/projects")
@role_required(Role.INITIATOR)
def index():
    session = db.session()
    mine = projects.list_my_projects(session, current_user)
    actions = {p.id: reviews.available_actions(p, current_user) for p in mine}
    return render_template("projects/index.html", projects=mine, actions=actions, editable=EDITABLE_STATES,
                           reasons=reviews.latest_reasons(session, mine), action_form=EmptyForm())


@bp.route("/my/projects/new", methods=["GET", "POST"])
@role_required(Role.INITIATOR)
def new():
    session = db.session()
    contest = contests.current_contest(session, utcnow())
    if contest is None:
        flash(_("There is no contest to submit ideas to yet. Please come back later."), "info")
        return redirect(url_for(".index"))
    form = _project_form(contest)
    if form.validate_on_submit():
        try:
            project = projects.create_project(session, _storage(), initiator=current_user, contest=contest,
                                              data=form.project_data())
        except ProjectInvalid as exc:
            attach_errors(form, exc.errors, RENAMES)
        else:
            session.commit()
            flash(_("Your draft has been saved. You can preview it, add rewards and submit it."), "success")
            return redirect(url_for(".show", project_id=project.id))
    return _render_form(form, contest)


@bp.route(f"{MY}/edit", methods=["GET", "POST"])
@role_required(Role.INITIATOR)
def edit(project_id: int):
    project = owned_project(project_id)
    projects.require_editable(project)
    form = _project_form(project.contest, project)
    if form.validate_on_submit():
        try:
            projects.update_project(db.session(), _storage(), project, form.project_data())
        except ProjectInvalid as exc:
            attach_errors(form, exc.errors, RENAMES)
        else:
            db.session().commit()
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for(".show", project_id=project.id))
    return _render_form(form, project.contest, project)


@bp.get(MY)
@role_required(Role.INITIATOR, Role.ADMIN)
def show(project_id: int):
    return render_show(owned_project(project_id, admin_ok=True))


@bp.get(f"{MY}/preview")
@role_required(Role.INITIATOR, Role.ADMIN)
def preview(project_id: int):
    project = owned_project(project_id, admin_ok=True)
    # render_markdown sanitises with nh3, which is what allows the template to output these with |safe.
    return render_template("projects/preview.html", project=project, cover_url=cover_url(project),
                           description_html=render_markdown(project.description),
                           updates=[(u, render_markdown(u.body)) for u in project.updates])


@bp.post(f"{MY}/<any(submit, withdraw):action>")
@role_required(Role.INITIATOR)
def change_state(project_id: int, action: str):
    project = owned_project(project_id)
    try:
        changed = reviews.apply_action(db.session(), project, action, actor=current_user, now=utcnow())
    except ProjectInvalid as exc:
        form = _project_form(project.contest, project, from_request=False)
        attach_errors(form, exc.errors, RENAMES)
        flash(_("Please complete your pitch before you submit it."), "error")
        return _render_form(form, project.contest, project)
    db.session().commit()
    flash(str(DONE[ProjectAction(action)]) if changed else _("Nothing has changed."), "success")
    return redirect(url_for(".show", project_id=project.id))


@bp.post(f"{MY}/updates")
@role_required(Role.INITIATOR, Role.ADMIN)
def post_update(project_id: int):
    project = owned_project(project_id, admin_ok=True)
    form = UpdateForm()
    if not form.validate_on_submit():
        return render_show(project, 422, update_form=form)
    try:
        projects.post_update(db.session(), project, author=current_user, title=form.title.data or "",
                             body=form.body.data or "", now=utcnow())
    except ProjectInvalid as exc:
        attach_errors(form, exc.errors)
        return render_show(project, 422, update_form=form)
    db.session().commit()
    flash(_("Your update has been published."), "success")
    return redirect(url_for(".show", project_id=project.id))


@bp.get("/projects/<slug>/cover")
def cover(slug: str):
    project = projects.project_by_slug(db.session(), slug)
    if project is None or not project.cover_image:
        abort(404)
    if ProjectState(project.state) not in PUBLIC_STATES and not _may_see(project):
        abort(404)  # a draft's cover does not reveal that the draft exists
    return send_from_directory(projects.covers_dir(_storage()), project.cover_image, max_age=300)


def cover_url(project: Project) -> str | None:
    """Return the address of the project's cover image, which changes whenever the image does."""
    return url_for("projects.cover", slug=project.slug, v=project.cover_image[:8]) if project.cover_image else None


def render_show(project: Project, status: int = 200, **forms: object):
    """Render the page where the initiator manages one project (admins may look at it too)."""
    forms.setdefault("update_form", UpdateForm())
    stock_forms = {r.id: StockForm(prefix=f"r{r.id}", formdata=None, quantity_total=r.quantity_total)
                   for r in project.rewards}
    stock_forms.update(forms.pop("stock_forms", {}))  # type: ignore[arg-type]
    reason = reviews.latest_reasons(db.session(), [project]).get(project.id)
    campaign = (campaigns.get_campaign(db.session(), project.slug, public_only=False, details=False)
                if ProjectState(project.state) in PUBLIC_STATES else None)  # its funding (pledged + matched)
    return render_template("projects/show.html", project=project, reason=reason, stock_forms=stock_forms,
                           campaign=campaign,
                           actions=reviews.available_actions(project, current_user), action_form=EmptyForm(),
                           cover_url=cover_url(project), editable=EDITABLE_STATES, stock_states=STOCK_STATES,
                           update_states=projects.UPDATE_STATES, **forms), status


def _may_see(project: Project) -> bool:
    user = current_user
    return user.is_authenticated and (project.initiator_id == user.id or user.has_role(Role.ADMIN))


def _storage() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def _project_form(contest: Contest, project: Project | None = None, *, from_request: bool = True) -> ProjectForm:
    if project is not None and (request.method == "GET" or not from_request):
        form = ProjectForm(formdata=None, data=project_form_data(project))
    else:
        form = ProjectForm()
    form.set_choices(projects.district_choices(db.session()))
    form.deadline.description = _("A day between %(start)s and %(end)s; the campaign ends at midnight in Kassel.",
                                  start=format_date(contest.funding_start, "long"),
                                  end=format_date(contest.funding_end, "long"))
    return form


def _render_form(form: ProjectForm, contest: Contest, project: Project | None = None):
    status = 422 if form.errors else 200
    return render_template("projects/form.html", form=form, contest=contest, project=project), status
