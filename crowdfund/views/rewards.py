"""The initiator's rewards: add, edit and delete while the pitch is editable; afterwards only the stock."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.projects import IllegalTransition
from crowdfund.domain.roles import Role
from crowdfund.forms.messages import attach_errors
from crowdfund.forms.projects import RENAMES, RewardForm, StockForm, reward_form_data
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.services import projects, rewards
from crowdfund.services.projects import NotEditable, ProjectInvalid
from crowdfund.views.projects import conflict_message, owned_project, render_show

bp = Blueprint("rewards", __name__, url_prefix="/my/projects/<int:project_id>/rewards")


@bp.errorhandler(IllegalTransition)
@bp.errorhandler(NotEditable)
def conflict(exc: IllegalTransition | NotEditable):
    db.session().rollback()
    flash(conflict_message(exc), "error")
    return render_show(owned_project(request.view_args["project_id"]), 409)  # type: ignore[index]


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.INITIATOR)
def new(project_id: int):
    project = owned_project(project_id)
    projects.require_editable(project)
    form = RewardForm()
    if form.validate_on_submit():
        try:
            rewards.add_reward(db.session(), project, form.reward_data())
        except ProjectInvalid as exc:
            attach_errors(form, exc.errors, RENAMES)
        else:
            return _saved(project)
    return _render(form, project)


@bp.route("/<int:reward_id>/edit", methods=["GET", "POST"])
@role_required(Role.INITIATOR)
def edit(project_id: int, reward_id: int):
    project = owned_project(project_id)
    reward = _reward(project, reward_id)
    projects.require_editable(project)
    form = RewardForm(formdata=None, data=reward_form_data(reward)) if request.method == "GET" else RewardForm()
    if form.validate_on_submit():
        try:
            rewards.update_reward(db.session(), reward, form.reward_data())
        except ProjectInvalid as exc:
            attach_errors(form, exc.errors, RENAMES)
        else:
            return _saved(project)
    return _render(form, project, reward)


@bp.post("/<int:reward_id>/delete")
@role_required(Role.INITIATOR)
def delete(project_id: int, reward_id: int):
    project = owned_project(project_id)
    rewards.delete_reward(db.session(), _reward(project, reward_id))
    db.session().commit()
    flash(_("The reward has been deleted."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/<int:reward_id>/stock")
@role_required(Role.INITIATOR)
def stock(project_id: int, reward_id: int):
    project = owned_project(project_id)
    reward = _reward(project, reward_id)
    form = StockForm(prefix=f"r{reward.id}")
    if form.validate_on_submit():
        try:
            rewards.change_reward_stock(db.session(), reward, form.quantity_total.data)
        except ProjectInvalid as exc:
            attach_errors(form, exc.errors)
        else:
            return _saved(project)
    db.session().rollback()
    return render_show(project, 422, stock_forms={reward.id: form})


def _reward(project: Project, reward_id: int) -> Reward:
    reward = db.session().get(Reward, reward_id)
    if reward is None or reward.project_id != project.id:
        abort(404)
    return reward


def _saved(project: Project):
    db.session().commit()
    flash(_("The reward has been saved."), "success")
    return redirect(url_for("projects.show", project_id=project.id))


def _render(form: RewardForm, project: Project, reward: Reward | None = None):
    status = 422 if form.errors else 200
    return render_template("projects/reward_form.html", form=form, project=project, reward=reward), status

