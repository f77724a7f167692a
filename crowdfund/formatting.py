"""Display helpers for templates and the API: euros from integer cents (never via float), local dates and
time left on Berlin's wall clock, and Markdown rendered once per distinct text."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_currency, format_date, get_locale
from markupsafe import Markup

from crowdfund.domain.projects import time_left as _time_left
from crowdfund.markdown import render_markdown


def euros(cents: int, currency: str = "EUR") -> str:
    """Format integer cents as a localised amount ("2.500,00 €" / "€2,500.00").

    Decimal(cents) / 100 is exact, so no float ever touches the amount."""
    return _euros(int(cents), currency, str(get_locale()))


@lru_cache(maxsize=4096)
def _euros(cents: int, currency: str, locale: str) -> str:
    # `locale` is the request's (format_currency reads it itself); it is part of the key only.
    return format_currency(Decimal(cents) / 100, currency)


def local_timezone() -> ZoneInfo:
    """Return the platform's time zone (BABEL_DEFAULT_TIMEZONE, Europe/Berlin)."""
    return _zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time_left(deadline: datetime, now: datetime) -> tuple[int, int]:
    """Return the whole days and hours until `deadline`, counted on the local wall clock.

    Both ends are in the same zone, so a change to or from summer time does not shift the count."""
    tz = local_timezone()
    return _time_left(deadline.astimezone(tz), now.astimezone(tz))


def local_isoformat(moment: datetime) -> str:
    """Return an ISO 8601 timestamp with the local offset, to the second (2027-02-28T23:59:59+01:00)."""
    return moment.astimezone(local_timezone()).isoformat(timespec="seconds")


def month_year(value: str) -> str:
    """Format a "YYYY-MM" delivery estimate as a localised month ("März 2027"); other text as given."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return format_date(date(year, month, 1), "MMMM yyyy")
    except ValueError:
        return value


@lru_cache(maxsize=512)
def markdown_html(text: str) -> Markup:
    """Render user Markdown to HTML that is safe to insert unescaped.

    render_markdown drops raw HTML and sanitises its output with nh3 (allow-listed tags, attributes and
    link schemes), which is what justifies Markup here. Cached: the same text always gives the same HTML."""
    return Markup(render_markdown(text))  # noqa: S704 (sanitised by nh3 above)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["euros"] = euros
    app.jinja_env.filters["markdown"] = markdown_html
    app.jinja_env.filters["month_year"] = month_year
    app.jinja_env.filters["local_iso"] = local_isoformat
    app.jinja_env.globals["local_time_left"] = local_time_left
