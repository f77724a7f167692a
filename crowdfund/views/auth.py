from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from crowdfund import db, mail
from crowdfund.extensions import limiter
from crowdfund.forms.auth import EmptyForm, LoginForm, RegisterForm, ResetPasswordForm, ResetRequestForm
from crowdfund.services import accounts
from crowdfund.views import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        session = db.session()
        try:
            user = accounts.register_user(session, email=form.email.data, name=form.name.data,
                                          password=form.password.data)
        except accounts.AccountError:
            form.email.errors.append(_("An account with this e-mail address already exists."))
        else:
            session.commit()
            login_user(user)
            flash(_("Welcome, %(name)s! Your account has been created.", name=user.name), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data, url_for("main.index")))
    if form.validate_on_submit():
        user = accounts.authenticate(db.session(), form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(safe_next(form.next.data, url_for("main.index")))
        form.password.errors.append(_("E-mail address or password is wrong."))
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 422


@bp.post("/logout")
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(db.session(), form.email.data)
        if user is not None and user.active:
            token = accounts.make_reset_token(current_app.config["SECRET_KEY"], user)
            link = url_for("auth.reset_password", token=token, _external=True)
            mail.send_template(user.email, _("Reset your password"), "password_reset", user=user, link=link)
        # The same answer whether or not the address is known: no account enumeration.
        flash(_("If an account exists for this address, we have sent a link to reset the password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    session = db.session()
    config = current_app.config
    user = accounts.user_for_reset_token(session, config["SECRET_KEY"], token, config["PASSWORD_RESET_MAX_AGE"])
    if user is None:
        flash(_("This link is invalid or has expired. Please request a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(session, user, form.password.data, actor_id=user.id)
        session.commit()
        flash(_("Your password has been changed. Please log in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 200 if request.method == "GET" else 422
