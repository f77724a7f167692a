"""Alembic, driven from code: used by `init-db` and by the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from crowdfund.db import normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str, connection: Connection | None = None) -> None:
    """Apply every migration that the database does not have yet."""
    config = alembic_config(database_url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
