from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crowdfund import db
from crowdfund.auth import role_required
from crowdfund.domain.roles import Role
from crowdfund.forms.admin import RolesForm
from crowdfund.models.users import User
from crowdfund.services import accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    rows = db.session().scalars(select(User).order_by(User.name, User.id)).all()
    forms = {u.id: RolesForm(prefix=f"u{u.id}", roles=[r.role for r in u.role_rows]) for u in rows}
    return render_template("admin/users.html", users=rows, forms=forms)


@bp.post("/users/<int:user_id>/roles")
@role_required(Role.ADMIN)
def set_roles(user_id: int):
    session = db.session()
    user = session.get(User, user_id) or abort(404)
    form = RolesForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        flash(_("The roles could not be saved: please choose only listed roles."), "error")
        return redirect(url_for("admin.users"))
    wanted = {Role(value) for value in form.roles.data}
    if user.id == current_user.id and Role.ADMIN not in wanted:
        flash(_("You cannot remove your own admin role."), "error")
        return redirect(url_for("admin.users"))
    accounts.set_roles(session, user, wanted, actor_id=current_user.id)
    session.commit()
    flash(_("Roles of %(name)s saved.", name=user.name), "success")
    return redirect(url_for("admin.users"))
