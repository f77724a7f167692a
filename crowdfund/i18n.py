"""Language choice: the user's saved choice, then the session's, then Accept-Language, then German."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale
from flask_login import current_user

from crowdfund.extensions import babel

LANGUAGES = ("de", "en")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = current_language
    app.context_processor(lambda: {"current_locale": current_language()})


def current_language() -> str:
    """Return the language code of the current request ("de" or "en")."""
    return str(get_locale() or LANGUAGES[0])
