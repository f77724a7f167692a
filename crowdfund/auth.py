"""Who is asking: session login, Bearer tokens for the API, and the one role guard for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from crowdfund import db
from crowdfund.domain.roles import Role
from crowdfund.extensions import login_manager
from crowdfund.models.users import User
from crowdfund.services import accounts

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)


def _load_user(session_id: str) -> User | None:
    user_id, _, fragment = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or user.password_hash[-12:] != fragment:
        return None
    return user


def bearer_user() -> User | None:
    """Return the user of the request's `Authorization: Bearer` token, if valid.

    The API authenticates by token only, never by session cookie, so it needs no CSRF token."""
    if "api_user" in g:
        return g.api_user
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    user = None
    if scheme.lower() == "bearer" and raw.strip():
        session = db.session()
        user = accounts.user_for_api_token(session, raw.strip())
        session.commit()
    g.api_user = user
    return user


def token_required(*roles: Role) -> Callable[[F], F]:
    """Guard an API view: 401 without a valid token, 403 without one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = bearer_user()
            if user is None:
                abort(401)
            if roles and not user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        abort(401)
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(*roles: Role) -> Callable[[F], F]:
    """Guard a view: anonymous users are sent to log in (401 on the API); users without
    one of `roles` get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


login_required = role_required()
