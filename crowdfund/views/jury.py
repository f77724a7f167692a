"""The jurors' pages: their contests, assigned entries with progress, conflicts, scorecards, discussion.

A conflicted or unassigned entry is answered with 404, as if it did not exist; a user who is not on the
contest's jury gets 403."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.jury import CONFLICT_PHASES, SCORING_PHASES, Phase
from crowdfund.domain.roles import Role
from crowdfund.forms.jury import CommentForm, ConflictForm, attach_jury_errors, error_message, scorecard_form
from crowdfund.models.contests import Contest
from crowdfund.models.projects import Project
from crowdfund.services import jury, jury_results, jury_scoring
from crowdfund.services.jury import JuryError
from crowdfund.services.jury_scoring import NotVisible, ScorecardInvalid
from crowdfund.services.jury_settings import criteria

bp = Blueprint("jury", __name__, url_prefix="/jury")


def juror_contest(slug: str) -> Contest:
    """Load a contest for one of its jurors: 404 if it does not exist, 403 for anyone else."""
    contest = jury.contest_by_slug(db.session(), slug) or abort(404)
    if not jury.is_juror(db.session(), contest, current_user):
        abort(403)
    return contest


def visible_entry(contest: Contest, project_id: int) -> Project:
    try:
        return jury_scoring.entry_for_juror(db.session(), contest, current_user, project_id)
    except NotVisible:
        abort(404)


@bp.get("")
@role_required(Role.JUROR)
def index():
    return render_template("jury/index.html", contests=jury.juror_contests(db.session(), current_user))


@bp.get("/<slug>")
@role_required(Role.JUROR)
def contest(slug: str):
    session, contest = db.session(), juror_contest(slug)
    overview = jury_scoring.juror_overview(session, contest, current_user)
    crowd = jury_results.crowd_figures(session, contest, utcnow())[0] if overview.all_done else None
    session.commit()  # crowd_figures freezes the index once funding has ended
    return render_template("jury/contest.html", contest=contest, overview=overview, crowd=crowd,
                           phase=Phase(jury.get_config(session, contest).phase), scoring=SCORING_PHASES)


@bp.route("/<slug>/conflicts", methods=["GET", "POST"])
@role_required(Role.JUROR)
def conflicts(slug: str):
    session, contest = db.session(), juror_contest(slug)
    form = ConflictForm()
    mine = jury.conflicted_ids(session, contest, current_user)
    form.project.choices = [(p.id, p.title) for p in jury.entries(session, contest) if p.id not in mine]
    if form.validate_on_submit():
        try:
            jury.declare_conflict(session, contest, current_user, session.get(Project, form.project.data),
                                  form.kind.data, form.note.data or "", actor=current_user)
        except JuryError as exc:
            flash(error_message(exc.code), "error")
        else:
            session.commit()
            flash(_("Your conflict of interest has been recorded."), "success")
            return redirect(url_for(".conflicts", slug=slug))
    phase = Phase(jury.get_config(session, contest).phase)
    return render_template("jury/conflicts.html", contest=contest, form=form, open=phase in CONFLICT_PHASES,
                           conflicts=jury.conflicts(session, contest, current_user)), 422 if form.errors else 200


@bp.route("/<slug>/entries/<int:project_id>", methods=["GET", "POST"])
@role_required(Role.JUROR)
def entry(slug: str, project_id: int):
    session, contest = db.session(), juror_contest(slug)
    project = visible_entry(contest, project_id)
    rows = criteria(session, contest)
    card = jury_scoring.own_card(session, current_user, project)
    form = scorecard_form(rows, {**{f"score_{k}": v for k, v in jury_scoring.card_scores(card).items()},
                                 "comment": card.comment if card else ""})
    if form.validate_on_submit():
        try:
            jury_scoring.save_scorecard(session, contest, current_user, project, scores=form.scores(),
                                        comment=form.comment.data or "", submit=form.action.data == "submit",
                                        now=utcnow())
        except ScorecardInvalid as exc:
            attach_jury_errors(form, {str(k): v for k, v in exc.errors.items()}, prefix="score_")
        except JuryError as exc:
            flash(error_message(exc.code), "error")
        else:
            session.commit()
            flash(_("Your scorecard has been submitted.") if form.action.data == "submit"
                  else _("Your draft has been saved."), "success")
            return redirect(url_for(".entry", slug=slug, project_id=project_id))
    return _render_entry(contest, project, form, card, 422 if form.errors else 200)


@bp.post("/<slug>/entries/<int:project_id>/comments")
@role_required(Role.JUROR)
def comment(slug: str, project_id: int):
    session, contest = db.session(), juror_contest(slug)
    project = visible_entry(contest, project_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            jury_scoring.add_comment(session, contest, current_user, project, form.body.data or "", now=utcnow())
        except JuryError as exc:
            flash(error_message(exc.errors.get("body", exc.code)), "error")
        else:
            session.commit()
            flash(_("Your contribution has been added to the discussion."), "success")
    else:
        flash(_("Please write something before sending."), "error")
    return redirect(url_for(".entry", slug=slug, project_id=project_id) + "#discussion")


def _render_entry(contest: Contest, project: Project, form, card, status: int):
    session = db.session()
    others = jury_scoring.others_cards(session, contest, current_user, project)
    phase = Phase(jury.get_config(session, contest).phase)
    return render_template(
        "jury/entry.html", contest=contest, project=project, form=form, card=card, others=others,
        criteria=criteria(session, contest), comments=jury_scoring.discussion(session, project) if others is not None
        else None, comment_form=CommentForm(formdata=None), can_score=phase in SCORING_PHASES,
        overview=jury_scoring.juror_overview(session, contest, current_user)), status
