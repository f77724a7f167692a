"""The admins' jury results: the ranking with its figures and flags, the tie vote, the jury's decision, and
the exports (raw scores as CSV, the PDF protocol). Publishing is a phase change (jury_admin)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.db import utcnow
from crowdfund.domain.jury import Phase
from crowdfund.domain.roles import Role
from crowdfund.forms.jury import attach_jury_errors, error_message, ranking_form
from crowdfund.services import jury, jury_exports, jury_protocol, jury_results
from crowdfund.services.jury import JuryError
from crowdfund.services.jury_results import ContestResults

bp = Blueprint("jury_results_admin", __name__, url_prefix="/admin/jury")


@bp.errorhandler(JuryError)
def refused(exc: JuryError):
    db.session().rollback()
    flash(error_message(exc.code), "error")
    return redirect(url_for(".results", slug=request.view_args["slug"])), 303  # type: ignore[index]


def _results(slug: str) -> ContestResults:
    session = db.session()
    contest = jury.contest_by_slug(session, slug) or abort(404)
    results = jury_results.compute_results(session, contest, utcnow())
    session.commit()  # the crowd index is frozen on the first computation after the deadline
    return results


def _ranked(results: ContestResults) -> list[tuple[int, str, int]]:
    return [(r.project.id, r.project.title, r.position) for r in results.rows if r.position is not None]


def _tied(results: ContestResults) -> list[tuple[int, str, int]]:
    titles = {r.project.id: r.project.title for r in results.rows}
    return [(e, titles[e], i + 1) for group in results.unresolved_ties for i, e in enumerate(group)]


@bp.get("/<slug>/results")
@role_required(Role.ADMIN)
def results(slug: str):
    results = _results(slug)
    return _render(results, ranking_form(_ranked(results), with_reason=True, formdata=False),
                   ranking_form(_tied(results), with_reason=False, formdata=False))


@bp.post("/<slug>/tie-vote")
@role_required(Role.ADMIN)
def tie_vote(slug: str):
    results = _results(slug)
    form = ranking_form(_tied(results), with_reason=False)
    if not form.validate_on_submit():
        return _render(results, ranking_form(_ranked(results), with_reason=True, formdata=False), form, 422)
    jury_results.record_tie_vote(db.session(), results.contest, form.order(), actor=current_user)
    db.session().commit()
    flash(_("The jury vote has been recorded."), "success")
    return redirect(url_for(".results", slug=slug))


@bp.post("/<slug>/decision")
@role_required(Role.ADMIN)
def decision(slug: str):
    results = _results(slug)
    form = ranking_form(_ranked(results), with_reason=True)
    if form.validate_on_submit():
        try:
            jury_results.record_decision(db.session(), results.contest, form.order(), form.reason.data or "",
                                         actor=current_user, now=utcnow())
        except JuryError as exc:
            if not exc.errors:
                raise
            attach_jury_errors(form, exc.errors)
        else:
            db.session().commit()
            flash(_("The jury's decision has been recorded."), "success")
            return redirect(url_for(".results", slug=slug))
    return _render(results, form, ranking_form(_tied(results), with_reason=False, formdata=False), 422)


@bp.get("/<slug>/scores.csv")
@role_required(Role.ADMIN)
def scores_csv(slug: str):
    jury.contest_by_slug(db.session(), slug) or abort(404)

    def lines():
        # Runs after the view has returned and its session is closed: it loads the contest again.
        session = db.session()
        yield from jury_exports.raw_score_lines(session, jury.contest_by_slug(session, slug))

    headers = {"Content-Disposition": f'attachment; filename="{slug}-scores.csv"'}
    return Response(stream_with_context(lines()), mimetype="text/csv", headers=headers)


@bp.get("/<slug>/protocol.pdf")
@role_required(Role.ADMIN)
def protocol_pdf(slug: str):
    results = _results(slug)
    html = render_template("jury_admin/protocol.html", results=results, history=jury.history(db.session(),
                                                                                             results.contest))
    pdf = jury_protocol.render_protocol(html, current_app.static_folder or "")
    headers = {"Content-Disposition": f'attachment; filename="{results.contest.slug}-jury-protocol.pdf"'}
    return Response(pdf, mimetype="application/pdf", headers=headers)


def _render(results: ContestResults, decision_form, tie_form, status: int = 200):
    names = {u.id: u.name for u in jury.panel(db.session(), results.contest)}
    return render_template("jury_admin/results.html", results=results, phase=Phase(results.config.phase),
                           decision_form=decision_form, tie_form=tie_form, criteria=results.criteria,
                           juror_names=names), status
