"""Blueprints: load -> authorize -> validate -> one service call -> respond."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask_smorest import Api


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a local path (no scheme, no host), else `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def register_blueprints(app: Flask, api: Api) -> None:
    from crowdfund.views import account, admin, auth, campaigns, contests, main, projects, review, rewards
    from crowdfund.views.api import register as register_api

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(campaigns.bp)
    for blueprint in (projects.bp, rewards.bp, review.bp, contests.bp):
        app.register_blueprint(blueprint)
    register_api(api)
