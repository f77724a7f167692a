"""Configuration classes. Secrets come from the environment only (a `.env` file in development).

Every upper-case setting below may be overridden by an environment variable of the same name;
values are read when a config object is created, never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """Raised when a configuration cannot be used safely."""


def _cast(default: object, raw: str) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = ""
    DATABASE_URL = ""
    SQLALCHEMY_ECHO = False
    INSTANCE_PATH = str(BASE_DIR / "instance")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    BASE_URL = "http://127.0.0.1:5000"
    # Reverse proxies in front of the app (TLS terminator, load balancer) whose X-Forwarded-For/-Proto/-Host
    # headers are trusted: 0 = none (direct), 1 = one nginx/Caddy in front. Rate limits key on the client's IP.
    TRUSTED_PROXIES = 0

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DAYS = 30
    PREFERRED_URL_SCHEME = "http"
    HSTS = False

    # i18n: German first, English second
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"

    # Rate limiting: memory by default, Redis via RATELIMIT_STORAGE_URI
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"

    # Background jobs: run inline (synchronously) unless REDIS_URL is set; then RQ on that Redis, run by
    # `flask --app wsgi worker`, with `flask --app wsgi scheduler` for the periodic jobs
    REDIS_URL = ""
    JOB_QUEUE = "crowdfund"

    # CSRF
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 43200  # seconds a form stays valid: long enough to write a pitch

    # Mail: SMTP when MAIL_SERVER is set, else .eml files under MAIL_OUTBOX_DIR
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10.0
    MAIL_DEFAULT_SENDER = "Crowdfunding Kassel <noreply@crowdfunding-kassel.de>"
    MAIL_OUTBOX_DIR = ""
    PASSWORD_RESET_MAX_AGE = 3600
    # The outbox retries a message that could not be sent after 1, 2, 4, ... times MAIL_RETRY_SECONDS
    # (at most 6 hours apart); after MAIL_MAX_ATTEMPTS attempts it is marked failed (admins see /admin/outbox)
    MAIL_MAX_ATTEMPTS = 8
    MAIL_RETRY_SECONDS = 60

    # Payments (used from the pledges issue on)
    STRIPE_SECRET_KEY = ""
    STRIPE_PUBLISHABLE_KEY = ""
    STRIPE_WEBHOOK_SECRET = ""
    STRIPE_API_BASE = ""
    STRIPE_JS_URL = ""
    STRIPE_TIMEOUT_SECONDS = 10.0  # per provider call: a hung provider answers 503 instead of holding row locks
    PLEDGE_MIN_CENTS = 100
    PLEDGE_MAX_CENTS = 1_000_000
    PAYMENT_FIX_WINDOW_DAYS = 7
    PAYMENT_METHOD_TYPES = "card,sepa_debit"

    # Anonymous visitors get public campaign pages and API answers at most this many seconds old
    PUBLIC_CACHE_SECONDS = 10

    # Uploads and receipts live outside the code tree
    STORAGE_DIR = ""

    # JSON API / OpenAPI (flask-smorest; not overridable from the environment)
    API_TITLE = "Crowdfunding Kassel API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    # --- Receipts and finance (issue 5) -------------------------------------------------------------
    # Who issues receipts: "platform" (one number series) or "recipient" (a series per project recipient).
    RECEIPT_ISSUER_MODE = "platform"
    RECEIPT_PREFIX = "KS"  # numbers look like KS-2026-000042 (recipient mode: KSP7-2026-000001)
    RECEIPT_ISSUER_NAME = "Crowdfunding Kassel"
    RECEIPT_ISSUER_ADDRESS = "Wirtschaftsförderung Region Kassel GmbH\nKurfürstenstraße 9\n34117 Kassel"
    RECEIPT_RETENTION_YEARS = 10  # § 147 AO: counted from the end of the year of issue
    # DATEV EXTF Buchungsstapel: adviser/client numbers, fiscal year start (MMDD), chart ("03" SKR03, "04" SKR04)
    DATEV_ADVISER_NUMBER = 1001
    DATEV_CLIENT_NUMBER = 1
    DATEV_FISCAL_YEAR_START = "0101"
    DATEV_ACCOUNT_LENGTH = 4
    DATEV_CHART = "03"
    DATEV_ENCODING = "cp1252"  # or "utf-8-sig" (UTF-8 with BOM)
    DATEV_ACCOUNT_BANK = "1200"  # SKR03 Bank
    DATEV_ACCOUNT_REVENUE = "1590"  # contra of charges and refunds: pledges pass through (Durchlaufende Posten)
    DATEV_ACCOUNT_MATCHING = "1590"  # contra of matching-pot top-ups
    DATEV_ACCOUNT_FEES = "4970"  # SKR03 Nebenkosten des Geldverkehrs
    DATEV_ACCOUNT_PAYOUTS = "1590"  # contra of payouts to the projects' recipients
    # Payouts: the platform's own account (debtor of the SEPA credit transfers)
    SEPA_DEBTOR_NAME = "Crowdfunding Kassel"
    SEPA_DEBTOR_IBAN = "DE89370400440532013000"
    SEPA_DEBTOR_BIC = ""
    PAYOUT_FOUR_EYES = True  # the approver must not be the finance user who requested the payout
    # --- end of receipts and finance ---------------------------------------------------------------

    _NOT_FROM_ENV = frozenset({"ENV_NAME", "API_TITLE", "API_VERSION", "OPENAPI_VERSION"})

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        for name in dir(self):
            if name.isupper() and name not in self._NOT_FROM_ENV and name in environ:
                setattr(self, name, _cast(getattr(self, name), environ[name]))
        self.DATABASE_URL = self.DATABASE_URL or self.default_database_url()
        self.MAIL_OUTBOX_DIR = self.MAIL_OUTBOX_DIR or str(Path(self.INSTANCE_PATH) / "outbox")
        self.STORAGE_DIR = self.STORAGE_DIR or str(Path(self.INSTANCE_PATH) / "storage")

    def default_database_url(self) -> str:
        return ""

    def validate(self) -> None:
        """Refuse settings that are unsafe for this environment."""

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in dir(self) if name.isupper()}


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        super().__init__(environ)
        # A development-only key; production refuses to start without SECRET_KEY.
        self.SECRET_KEY = self.SECRET_KEY or "dev-only-insecure-key"

    def default_database_url(self) -> str:
        return f"sqlite:///{Path(self.INSTANCE_PATH) / 'crowdfund.sqlite3'}"


class TestConfig(BaseConfig):
    __test__ = False  # not a pytest test class
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 (test configuration only)
    MAIL_SERVER = ""
    PUBLIC_CACHE_SECONDS = 0

    def default_database_url(self) -> str:
        return "sqlite://"


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True

    def validate(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not getattr(self, name)]
        if missing:
            raise ConfigError(
                "Production configuration refuses to start without: " + ", ".join(missing)
            )


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None, environ: dict[str, str] | None = None) -> BaseConfig:
    """Return a validated config for `name` (default: $CROWDFUND_ENV, else development)."""
    env = os.environ if environ is None else environ
    name = name or env.get("CROWDFUND_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"Unknown configuration {name!r}; use one of {sorted(CONFIGS)}")
    config = CONFIGS[name](dict(env))
    config.validate()
    return config
