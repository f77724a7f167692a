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
    from crowdfund.views import account, admin, auth, campaigns, contests, main, matching, projects, review, rewards
    from crowdfund.views.api import register as register_api

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(campaigns.bp)
    for blueprint in (projects.bp, rewards.bp, review.bp, contests.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(matching.bp)
    from crowdfund.views import pledges

    app.register_blueprint(pledges.bp)
    from crowdfund.views import payments, refunds

    app.register_blueprint(payments.bp)
    app.register_blueprint(refunds.bp)
    from crowdfund.views import jury, jury_admin, jury_admin_results, results

    for blueprint in (jury.bp, jury_admin.bp, jury_admin_results.bp, results.bp):
        app.register_blueprint(blueprint)
    from crowdfund.views import finance, receipts

    for blueprint in (finance.bp, receipts.bp):
        app.register_blueprint(blueprint)
    from crowdfund.views import privacy

    app.register_blueprint(privacy.bp)
    from crowdfund.views import admin_outbox

    app.register_blueprint(admin_outbox.bp)
    register_api(api)
