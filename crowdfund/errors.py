"""Error responses: HTML pages in the user's language, JSON under /api/."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check your input.")),
    401: (_l("Login required"), _l("Please log in to continue.")),
    403: (_l("Access denied"), _l("Your account does not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept this kind of request.")),
    413: (_l("Upload too large"), _l("The file you sent is larger than we accept.")),
    422: (_l("Invalid input"), _l("Some fields are not valid. Please correct them.")),
    429: (_l("Too many requests"), _l("You sent too many requests. Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been logged; please try again later.")),
    503: (_l("Temporarily unavailable"),
          _l("The service is briefly unavailable; nothing was saved. Please try again in a moment.")),
}
# The database went away mid-request (restart, failover, pool exhausted): the transaction is rolled back and
# the client is told to retry; pre-ping gives the next request a fresh connection.
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 5


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(error: HTTPException) -> tuple[Any, int, dict[str, str]]:
    """The API's error payload: `code`, `status`, `message` and, for bad input, `errors` per field."""
    code = error.code or 500
    payload: dict[str, Any] = {"code": code, "status": error.name}
    data = getattr(error, "data", None) or {}
    _title, text = MESSAGES.get(code, (error.name, error.description))
    payload["message"] = data.get("message") or str(text)
    errors = data.get("errors") or data.get("messages")
    if errors:
        # webargs nests messages by location ({"json": {...}}); name fields directly.
        if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "path", "headers"}:
            # A body that is not JSON at all comes as {"json": ["Invalid JSON body."]}: named by its location.
            errors = {k: v for location, loc in errors.items()
                      for k, v in (loc.items() if isinstance(loc, dict) else [(location, loc)])}
        payload["errors"] = errors
    headers = dict(data.get("headers") or {})
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return jsonify(payload), code, headers


def handle_http_exception(error: HTTPException) -> Any:
    if error.code and error.code >= 500:
        _rollback()
    if wants_json():
        return json_error(error)
    code = error.code or 500
    title, text = MESSAGES.get(code, (error.name, error.description))
    headers = error.get_response().headers if code in (405, 429, 503) else {}
    kept = {k: v for k, v in headers.items() if k in ("Allow", "Retry-After")}
    try:
        body = render_template("errors/error.html", code=code, title=title, text=text)
    except Exception:  # e.g. the database is down and the layout cannot load the user
        log.exception("Error page %s could not be rendered; sending the plain fallback", code)
        body = FALLBACK_PAGE.format(code=code, title=escape(str(title)), text=escape(str(text)))
    return body, code, kept


FALLBACK_PAGE = (
    '<!doctype html><html lang="de"><meta charset="utf-8"><title>{code} {title}</title>'
    '<main><h1>{title}</h1><p>{text}</p><p><a href="/">Crowdfunding Kassel</a></p></main></html>'
)


def handle_unexpected(error: Exception) -> Any:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError(original_exception=error))


def handle_database_down(error: Exception) -> Any:
    log.error("Database unavailable on %s %s: %s", request.method, request.path, error)
    return handle_http_exception(DatabaseUnavailable())


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)
        self.data = {"headers": {"Retry-After": str(RETRY_AFTER_SECONDS)}}


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    for error in DATABASE_DOWN:
        app.register_error_handler(error, handle_database_down)
