"""An empty database upgrades to head, and then autogenerate finds nothing left to do."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from crowdfund.db import Base, make_engine, normalize_url
from crowdfund.migrate import upgrade_to_head

pytestmark = pytest.mark.db


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"migtest_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield normalize_url(base).rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_empty_database_upgrades_to_head_and_matches_the_models(empty_database_url):
    upgrade_to_head(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert diff == []


def test_upgrading_twice_is_harmless(empty_database_url):
    upgrade_to_head(empty_database_url)
    upgrade_to_head(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert version


def test_check_constraints_of_the_models_exist_in_the_migrated_database(empty_database_url):
    upgrade_to_head(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.connect() as conn:
        inspector = inspect(conn)
        found = {c["name"] for t in Base.metadata.sorted_tables for c in inspector.get_check_constraints(t.name)}
    engine.dispose()
    wanted = {c.name for t in Base.metadata.sorted_tables for c in t.constraints
              if c.__class__.__name__ == "CheckConstraint"}
    assert wanted <= found, sorted(wanted - found)
