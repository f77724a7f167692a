"""Shared fixtures: the app on a migrated database (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
clients, a CLI runner, an SMTP server on loopback and a login helper."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from config import TestConfig
from crowdfund import create_app
from crowdfund.db import Base, make_engine, normalize_url
from crowdfund.migrate import upgrade_to_head
from payments.localstripe_admin import flush, run_localstripe
from payments.stripe_gateway import StripeGateway

DB_FIXTURES = {"app", "database_url", "session", "client", "runner", "auth", "live_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_postgres_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per test session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalize_url(url)
        reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade_to_head(url)
    return url


def wipe(app: Flask) -> None:
    engine = app.extensions["db_engine"]
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def make_test_config(database_url: str, instance: Path, **overrides: str) -> TestConfig:
    environ = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), **overrides}
    return TestConfig(environ)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(make_test_config(database_url, tmp_path / "instance"))
    yield application
    wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path):
    """Build extra apps with settings of the test's choosing; their connections are closed afterwards."""
    made: list[Flask] = []

    def build(**overrides: str) -> Flask:
        instance = tmp_path / f"instance-{len(made)}"
        made.append(create_app(make_test_config(overrides.pop("DATABASE_URL", database_url), instance, **overrides)))
        return made[-1]

    yield build
    for extra in made:
        extra.extensions["db_engine"].dispose()


@pytest.fixture
def session(app: Flask):
    """A session of the test's own, outside any app context, so requests keep their own `g`."""
    db_session = app.extensions["db_sessionmaker"]()
    yield db_session
    db_session.rollback()
    db_session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """GET `path` and return the CSRF token of its first form."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str, remember: bool = False):
        data = {"email": email, "password": password, "csrf_token": csrf_token(self.client, "/auth/login")}
        if remember:
            data["remember"] = "y"
        return self.client.post("/auth/login", data=data)

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": csrf_token(self.client, "/")})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, list]]:
    """A real SMTP server on loopback that collects (sender, recipients, message)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            return "250 OK"

    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield "127.0.0.1", controller.port, handler.messages
    controller.stop()


# --- localstripe: the offline Stripe stand-in, one process per session, wiped after each test ---------
@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[str]:
    """The URL of a localstripe process started for this test session (state kept between tests)."""
    with run_localstripe() as url:
        yield url


@pytest.fixture
def localstripe(localstripe_server: str) -> Iterator[str]:
    """The URL of the session's localstripe, with every object deleted after the test."""
    yield localstripe_server
    flush(localstripe_server)


@pytest.fixture
def stripe_gateway(localstripe: str) -> StripeGateway:
    """The real Stripe adapter, talking to localstripe."""
    return StripeGateway("sk_test_localstripe", api_base=localstripe)
