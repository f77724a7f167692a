"""Security headers on every response (the Content-Security-Policy allows no inline script); NUL characters
are refused in every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request
from werkzeug.datastructures import MultiDict

F = TypeVar("F", bound=Callable[..., Any])
FRAMEABLE_ATTR = "_frameable"


def frameable(view: F) -> F:
    """Mark a view (e.g. an embeddable widget) as allowed inside frames on other sites."""
    setattr(view, FRAMEABLE_ATTR, True)
    return view


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def build_csp(config: dict, *, frame_ancestors: str) -> str:
    """Build the policy; the payment provider's script and API origins are added from config."""
    js = _origin(config.get("STRIPE_JS_URL", ""))
    extra = sorted({o for o in (js, _origin(config.get("STRIPE_API_BASE", ""))) if o})
    script = " ".join(["'self'", *extra])
    connect = script
    if js == "https://js.stripe.com":  # real Stripe.js talks to its API and opens 3-D Secure frames
        connect = f"{script} https://api.stripe.com"
        extra = [*extra, "https://hooks.stripe.com"]
    directives = [
        "default-src 'self'",
        f"script-src {script}",
        f"connect-src {connect}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "frame-src " + (" ".join(extra) if extra else "'none'"),
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    return "; ".join(directives)


def _set_headers(response: Response) -> Response:
    view = current_app.view_functions.get(request.endpoint or "")
    is_frameable = bool(view and getattr(view, FRAMEABLE_ATTR, False))
    response.headers["Content-Security-Policy"] = build_csp(
        current_app.config, frame_ancestors="*" if is_frameable else "'none'"
    )
    if not is_frameable:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config.get("HSTS"):
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def _refuse_nul() -> None:
    """No person types a NUL character and PostgreSQL cannot store one: a request that carries one in its path,
    query or form is refused (400) before any view reads it."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in FORM_TYPES and _has_nul(request.form):
        abort(400)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(values: MultiDict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
    app.after_request(_set_headers)
