"""A short-lived in-process cache for the public campaign pages as anonymous visitors see them.

Rendering a list page costs milliseconds (queries, Babel, Jinja); serving it again within a few seconds
costs almost nothing. Figures may therefore be up to PUBLIC_CACHE_SECONDS old for anonymous visitors
(0 switches the cache off; tests run without it). Logged-in users, pending flash messages and anything
but a 200 are never cached. The one per-visitor part of a page, the CSRF token of the language switch,
is rendered as a placeholder and replaced with the visitor's own token on every response.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, NamedTuple, TypeVar

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SECONDS = 10
MAX_ENTRIES = 512
_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(12)}"


class _Entry(NamedTuple):
    expires: float
    body: bytes
    mimetype: str
    has_placeholder: bool


class PageCache:
    """A bounded LRU of rendered responses with an expiry time; safe for threaded servers."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: tuple[str, ...], now: float) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.expires <= now:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, ...], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def cache_seconds() -> int:
    default = 0 if current_app.testing else DEFAULT_SECONDS
    return int(current_app.config.get("PUBLIC_CACHE_SECONDS", default))


def csrf_placeholder() -> dict[str, Any]:
    """Context processor: while a cacheable page renders, `csrf_token()` gives the placeholder."""
    return {"csrf_token": lambda: _PLACEHOLDER} if g.get("page_cache_rendering") else {}


def cached_public(view: F) -> F:
    """Serve an anonymous GET from the cache when a fresh copy exists; otherwise render and store it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seconds = cache_seconds()
        if not seconds or not _cacheable_request():
            return view(*args, **kwargs)
        cache: PageCache = current_app.extensions.setdefault("page_cache", PageCache())
        key = (request.url, str(get_locale()))
        entry = cache.get(key, time.monotonic())
        if entry is None:
            g.page_cache_rendering = True
            response = make_response(view(*args, **kwargs))
            g.page_cache_rendering = False
            if response.status_code != 200 or response.direct_passthrough:
                return _with_token(response)
            body = response.get_data()
            entry = _Entry(time.monotonic() + seconds, body, response.mimetype or "text/html",
                           _PLACEHOLDER.encode() in body)
            cache.put(key, entry)
        return _respond(entry)

    return wrapper  # type: ignore[return-value]


def _cacheable_request() -> bool:
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return False
    return not current_user.is_authenticated and not session.get("_flashes")


def _respond(entry: _Entry) -> Response:
    body = entry.body
    if entry.has_placeholder:
        body = body.replace(_PLACEHOLDER.encode(), generate_csrf().encode())
    return Response(body, mimetype=entry.mimetype)


def _with_token(response: Response) -> Response:
    if not response.direct_passthrough and _PLACEHOLDER.encode() in response.get_data():
        response.set_data(response.get_data().replace(_PLACEHOLDER.encode(), generate_csrf().encode()))
    return response
