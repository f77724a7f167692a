"""The crowdfunding contest platform. `create_app` is the only place where things are wired."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import BaseConfig, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: BaseConfig | str | None = None) -> Flask:
    """Build the application for `config` (an object, a config name, or None for the environment)."""
    if not isinstance(config, BaseConfig):
        config = load_config(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=config.INSTANCE_PATH,
    )
    app.config.from_mapping(config.as_dict())
    if config.TRUSTED_PROXIES:  # behind a TLS reverse proxy: the client's address and https come from it
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(config.TRUSTED_PROXIES)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config["REMEMBER_COOKIE_DURATION"] = 60 * 60 * 24 * config.REMEMBER_COOKIE_DAYS
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from crowdfund import auth, cli, db, errors, formatting, gateway, i18n, mail, security
    from crowdfund.extensions import api, csrf, limiter
    from crowdfund.views import register_blueprints

    db.init_app(app)
    limiter.init_app(app)  # before CSRF: requests with bad tokens still count toward the limit
    csrf.init_app(app)
    i18n.init_app(app)
    formatting.init_app(app)
    auth.init_app(app)
    mail.init_app(app)
    gateway.init_app(app)
    security.init_app(app)
    api.init_app(app)
    register_blueprints(app, api)
    errors.init_app(app)
    cli.init_app(app)
    return app
