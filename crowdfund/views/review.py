"""The admins' review: the queue with filters, a pitch with its audit log, and the decisions on it."""

from __future__ import annotations

import logging
import smtplib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crowdfund import db, mail
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.projects import IllegalTransition, ProjectAction
from crowdfund.domain.roles import Role
from crowdfund.forms.messages import attach_errors
from crowdfund.forms.projects import RENAMES, ReviewFilterForm, ReviewForm
from crowdfund.markdown import render_markdown
from crowdfund.models.projects import Project
from crowdfund.services import projects, reviews
from crowdfund.services.projects import ProjectInvalid
from crowdfund.views.projects import DONE, conflict_message, cover_url

log = logging.getLogger(__name__)
bp = Blueprint("review", __name__, url_prefix="/admin")

# Decisions the initiator is mailed about: template under templates/mail/ and subject.
MAILS = {
    ProjectAction.REQUEST_CHANGES: ("changes_requested", _l("Changes requested for your pitch “%(title)s”")),
    ProjectAction.APPROVE: ("project_approved", _l("Your pitch “%(title)s” has been approved")),
    ProjectAction.REJECT: ("project_rejected", _l("Your pitch “%(title)s” was not accepted")),
}


@bp.errorhandler(IllegalTransition)
def conflict(exc: IllegalTransition):
    db.session().rollback()
    flash(conflict_message(exc), "error")
    return _render_detail(_project(request.view_args["project_id"]), ReviewForm(formdata=None), 409)  # type: ignore[index]


@bp.get("/review")
@role_required(Role.ADMIN)
def queue():
    session = db.session()
    form = ReviewFilterForm(request.args)
    form.set_choices(projects.district_choices(session))
    if not form.validate():
        return render_template("review/index.html", form=form, projects=[]), 400
    items = reviews.review_queue(session, state=form.state.data, district_id=form.district.data or None,
                                 category=form.category.data)
    return render_template("review/index.html", form=form, projects=items)


@bp.get("/projects/<int:project_id>")
@role_required(Role.ADMIN)
def detail(project_id: int):
    return _render_detail(_project(project_id), ReviewForm(formdata=None))


@bp.post("/projects/<int:project_id>/review")
@role_required(Role.ADMIN)
def decide(project_id: int):
    session = db.session()
    project = _project(project_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_detail(project, form, 422)
    action, message = ProjectAction(form.action.data), (form.message.data or "").strip()
    try:
        changed = reviews.apply_action(session, project, action, actor=current_user, reason=message, now=utcnow())
    except ProjectInvalid as exc:
        attach_errors(form, exc.errors, RENAMES)
        return _render_detail(project, form, 422)
    session.commit()
    flash(str(DONE[action]) if changed else _("Nothing has changed."), "success")
    if changed and action in MAILS:
        _notify(project, action, message)
    return redirect(url_for(".detail", project_id=project.id))


def _project(project_id: int) -> Project:
    return db.session().get(Project, project_id) or abort(404)


def _render_detail(project: Project, form: ReviewForm, status: int = 200):
    history = reviews.project_history(db.session(), project)
    return render_template("review/show.html", project=project, form=form, history=history,
                           actions=reviews.available_actions(project, current_user), cover_url=cover_url(project),
                           description_html=render_markdown(project.description)), status


def _notify(project: Project, action: ProjectAction, message: str) -> None:
    """Mail the initiator, in their language; the decision stands even if the mail cannot be sent."""
    template, subject = MAILS[action]
    initiator = project.initiator
    link = url_for("projects.show", project_id=project.id, _external=True)
    try:
        with force_locale(initiator.locale or "de"):
            mail.send_template(initiator.email, str(subject) % {"title": project.title}, template,
                               user=initiator, project=project, message=message, link=link)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not mail %s about project %s", initiator.email, project.id)
        flash(_("The decision is saved, but the e-mail to the initiator could not be sent."), "error")
