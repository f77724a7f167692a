from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crowdfund import db
from crowdfund.extensions import csrf
from crowdfund.forms.auth import LanguageForm
from crowdfund.page_cache import cached_public
from crowdfund.services import accounts
from crowdfund.services.home import home_overview
from crowdfund.views import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
@cached_public  # anonymous visitors: the same short-lived cache as the campaign pages
def index():
    return render_template("main/index.html", overview=home_overview(db.session()))


@bp.post("/language")
def set_language():
    form = LanguageForm()
    target = safe_next(form.next.data, url_for("main.index"))
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            accounts.set_locale(db.session(), current_user, form.lang.data)
            db.session().commit()
    return redirect(target)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    try:
        db.session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = type(exc).__name__ + ": " + str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        return jsonify(status="error", database="unavailable", reason=reason), 503
    return jsonify(status="ok", database="ok")
