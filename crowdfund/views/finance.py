"""The finance area (finance and admin only): dashboard, exports, payouts, reconciliation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.roles import Role
from crowdfund.formatting import euros
from crowdfund.forms.finance import (
    DonationProfileForm,
    FinanceFilterForm,
    PayoutApproveForm,
    PayoutRequestForm,
    SepaExportForm,
)
from crowdfund.gateway import payment_gateway
from crowdfund.models.projects import Project
from crowdfund.models.receipts import DonationProfile, Payout, PayoutExport
from crowdfund.services import finance_exports, payouts
from crowdfund.services.finance import FinanceFilter, Period, dashboard
from crowdfund.services.finance_chart import money_chart_svg
from crowdfund.services.finance_datev import DatevError, DatevSettings, datev_csv, header
from crowdfund.services.receipt_content import save_donation_profile
from crowdfund.services.reconciliation import reconcile

bp = Blueprint("finance", __name__, url_prefix="/finance")
FINANCE = (Role.FINANCE, Role.ADMIN)
REFUSALS = {
    "not_funded": _l("Only funded projects are paid out."),
    "nothing": _l("The project holds no money to pay out."),
    "open": _l("A payout of this project is already waiting for approval."),
    "iban": _l("This IBAN is not valid."),
    "bic": _l("This BIC is not valid."),
    "four_eyes": _l("A payout must be approved by someone other than who requested it."),
    "changed": _l("The project's balance has changed. Please check the amount and approve again."),
    "status": _l("This payout cannot be approved in its current status."),
    "none_approved": _l("No approved payout is waiting for export."),
}


def _filters() -> tuple[FinanceFilterForm, FinanceFilter]:
    form = FinanceFilterForm(request.args)
    if request.args and not form.validate():
        abort(400)
    period = Period(form.start.data, form.end.data, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return form, FinanceFilter(period, form.project.data, form.state.data or None)


def _stream(produce: Callable[[Session], Iterator[bytes]]) -> Iterator[bytes]:
    """Run a streamed export in a session of its own, closed when the body is done or the client goes away
    (the server closes the response); the request's session is torn down before the body is sent."""
    session = current_app.extensions["db_sessionmaker"]()

    def body() -> Iterator[bytes]:
        try:
            yield from produce(session)
        finally:
            session.rollback()
            session.close()

    return body()


def _download(chunks: Iterator[bytes], name: str, mimetype: str) -> Response:
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
@role_required(*FINANCE)
def index():
    form, flt = _filters()
    board = dashboard(db.session(), flt)
    labels = {"in": _("Charged and matched"), "refunded": _("Refunded"), "paid_out": _("Paid out"),
              "held": _("Held")}
    chart = money_chart_svg(board.days, labels, money=euros, title=_("Money over time (cumulative)"))
    projects = db.session().scalars(select(Project).where(Project.state.in_(("funded", "ended", "live")))
                                    .order_by(Project.title)).all()
    return render_template("finance/dashboard.html", form=form, board=board, projects=projects,
                           chart=Markup(chart), query=request.args.to_dict())  # noqa: S704 (escaped SVG)


@bp.get("/exports/journal.csv")
@role_required(*FINANCE)
def journal_export():
    _form, flt = _filters()
    chunks = _stream(lambda session: finance_exports.journal_csv(
        finance_exports.journal_lines(session, flt.period, timezone=flt.period.timezone)))
    return _download(chunks, "journal.csv", "text/csv")


@bp.get("/exports/datev.csv")
@role_required(*FINANCE)
def datev_export():
    _form, flt = _filters()
    if flt.period.start is None or flt.period.end is None:
        abort(400)
    try:
        settings = DatevSettings.from_config(current_app.config, request.args.get("encoding") or None)
        header(settings, flt.period.start, flt.period.end, datetime.now(UTC))  # an impossible period fails here
    except DatevError as error:
        abort(400, str(error))
    chunks = _stream(lambda session: datev_csv(
        finance_exports.journal_lines(session, flt.period, timezone=flt.period.timezone), settings,
        start=flt.period.start, end=flt.period.end, created=datetime.now(UTC)))  # type: ignore[arg-type]
    name = f"EXTF_Buchungsstapel_{flt.period.start:%Y%m%d}_{flt.period.end:%Y%m%d}.csv"
    charset = "utf-8" if settings.encoding == "utf-8-sig" else "windows-1252"
    return _download(chunks, name, f"text/csv; charset={charset}")


@bp.get("/exports/receipts.zip")
@role_required(*FINANCE)
def receipts_export():
    _form, flt = _filters()
    chunks = _stream(lambda session: finance_exports.receipts_zip(session, flt.period))
    return _download(chunks, "receipts.zip", "application/zip")


@bp.get("/reconciliation")
@role_required(*FINANCE)
def reconciliation():
    form, flt = _filters()
    result = reconcile(db.session(), payment_gateway(), flt.period) if form.start.data and form.end.data else None
    return render_template("finance/reconciliation.html", form=form, result=result)


@bp.get("/payouts")
@role_required(*FINANCE)
def payout_list():
    return _payouts_page(SepaExportForm(formdata=None, execution_date=date.today()))


def _payouts_page(export_form: SepaExportForm, status: int = 200):
    session = db.session()
    funded = session.scalars(select(Project).where(Project.state == "funded").order_by(Project.title)).all()
    balances = {p.id: payouts.payable_cents(session, p.id) for p in funded}
    rows = session.scalars(select(Payout).order_by(Payout.id.desc())).all()
    exports = session.scalars(select(PayoutExport).order_by(PayoutExport.id.desc())).all()
    approve_forms = {p.id: PayoutApproveForm(formdata=None, expected_cents=balances.get(p.project_id, 0))
                     for p in rows if p.status == "requested"}
    return render_template("finance/payouts.html", funded=funded, balances=balances, payouts=rows, exports=exports,
                           approve_forms=approve_forms, export_form=export_form), status


@bp.route("/projects/<int:project_id>/payout", methods=["GET", "POST"])
@role_required(*FINANCE)
def payout_request(project_id: int):
    session = db.session()
    project = session.get(Project, project_id) or abort(404)
    form = PayoutRequestForm(recipient_name=project.recipient_name)
    if form.validate_on_submit():
        try:
            payouts.request_payout(session, project.id, iban=form.iban.data, bic=form.bic.data or "",
                                   recipient_name=form.recipient_name.data, actor_id=current_user.id)
        except payouts.PayoutRefused as refused:
            session.rollback()
            field = form.bic if refused.code == "bic" else form.iban  # a bad BIC is shown on the BIC field
            field.errors = [*field.errors, str(REFUSALS[refused.code])]
        else:
            session.commit()
            flash(_("The payout is requested and waits for approval."), "success")
            return redirect(url_for(".payout_list"))
    return render_template("finance/payout_request.html", project=project, form=form,
                           balance=payouts.payable_cents(session, project.id)), 422 if form.errors else 200


@bp.post("/payouts/<int:payout_id>/approve")
@role_required(*FINANCE)
def payout_approve(payout_id: int):
    session = db.session()
    form = PayoutApproveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        payouts.approve_payout(session, payout_id, expected_cents=form.expected_cents.data, actor_id=current_user.id,
                               four_eyes=bool(current_app.config["PAYOUT_FOUR_EYES"]))
    except payouts.PayoutRefused as refused:
        session.rollback()
        flash(str(REFUSALS[refused.code]), "error")
        return redirect(url_for(".payout_list")), 303
    session.commit()
    flash(_("The payout is approved and booked."), "success")
    return redirect(url_for(".payout_list")), 303


@bp.post("/payouts/export")
@role_required(*FINANCE)
def payout_export():
    session = db.session()
    form = SepaExportForm()
    if not form.validate_on_submit():
        session.rollback()
        return _payouts_page(form, 422)  # the list again, the date's error on its field
    config = current_app.config
    debtor = payouts.Debtor(config["SEPA_DEBTOR_NAME"], config["SEPA_DEBTOR_IBAN"], config["SEPA_DEBTOR_BIC"])
    try:
        export = payouts.export_payouts(session, debtor, actor_id=current_user.id,
                                        execution_date=form.execution_date.data)
    except payouts.PayoutRefused as refused:
        session.rollback()
        flash(str(REFUSALS[refused.code]), "error")
        return redirect(url_for(".payout_list")), 303
    session.commit()
    return redirect(url_for(".payout_file", export_id=export.id)), 303


@bp.get("/payouts/exports/<int:export_id>.xml")
@role_required(*FINANCE)
def payout_file(export_id: int):
    export = payouts.stored_export(db.session(), export_id) or abort(404)
    return _download(iter([export.xml]), f"SEPA_{export.message_id}.xml", "application/xml")


@bp.route("/projects/<int:project_id>/donation-profile", methods=["GET", "POST"])
@role_required(*FINANCE)
def donation_profile(project_id: int):
    session = db.session()
    project = session.get(Project, project_id) or abort(404)
    profile = session.scalars(select(DonationProfile).where(DonationProfile.project_id == project.id)).first()
    form = DonationProfileForm(obj=profile)
    if form.validate_on_submit():
        save_donation_profile(session, project.id, form.data, actor_id=current_user.id)
        session.commit()
        flash(_("The tax facts are saved. Donation receipts waiting for them are issued with the next run."),
              "success")
        return redirect(url_for(".donation_profile", project_id=project.id))
    return render_template("finance/donation_profile.html", project=project, form=form), 422 if form.errors else 200
