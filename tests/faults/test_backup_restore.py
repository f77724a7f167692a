"""bin/backup.sh and bin/restore.sh: a database filled through the services (users, campaigns, pledges charged by
settlement, a refund, ledger, receipts with their PDF bytes) and an uploads directory are backed up, restored
into a fresh database on the same server, and the app serves from the copy."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from crowdfund import create_app
from crowdfund.db import Base
from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.receipts import Receipt
from payments.fake import FakeGateway
from tests.conftest import make_test_config
from tests.factories import make_backers, make_pledge, make_pledge_world
from tests.finance_factories import issue_all, make_paid_project, refund

pytestmark = [pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]


def plain(url: str) -> str:
    """The URL as libpq tools take it (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_database(database_url: str):
    """An empty database with a unique name on the test server, dropped afterwards."""
    assert make_url(database_url).get_backend_name() == "postgresql", (
        "The backup test needs PostgreSQL: set TEST_DATABASE_URL=postgresql://... (it is marked `postgres`)."
    )
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = plain(str(make_url(database_url).set(database="postgres")))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield str(make_url(database_url).set(database=name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(url: str) -> dict[str, object]:
    """Row counts of every table, the ledger's sums by kind, and the receipts' numbers and hashes."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
            counts["alembic_version"] = conn.scalar(text("SELECT version_num FROM alembic_version"))
            sums = dict(conn.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount_cents))
                                     .group_by(LedgerEntry.kind)).all())
            receipts = conn.execute(select(Receipt.number, Receipt.sha256, func.length(Receipt.pdf))
                                    .order_by(Receipt.number)).all()
    finally:
        engine.dispose()
    return {"counts": counts, "ledger": sums, "receipts": [tuple(r) for r in receipts]}


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_backup_restores_into_a_fresh_database_that_the_app_serves(app, session, database_url, fresh_database,
                                                                     tmp_path):
    fake = FakeGateway(honour_idempotency_keys=False)
    paid = make_paid_project(app, session, fake, [5_000, 2_550, 12_345])
    refund(session, fake, paid.pledges[0], 1_000)
    assert issue_all(app).issued
    _world, live, _reward, _backer = make_pledge_world(session, world=paid.world)
    for backer in make_backers(session, 3):
        make_pledge(session, live, backer, 2_000)
    storage = tmp_path / "storage"
    (storage / "covers").mkdir(parents=True)
    (storage / "covers" / "cover.png").write_bytes(b"\x89PNG fake cover")
    before = snapshot(database_url)
    assert before["counts"]["ledger_entries"] and before["counts"]["receipts"] and before["ledger"]

    backup = script("bin/backup.sh", str(tmp_path / "backups"),
                    env={"DATABASE_URL": database_url, "STORAGE_DIR": str(storage)})
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip())
    assert dump.name.startswith("crowdfund-") and dump.suffix == ".dump" and dump.exists()
    restored_storage = tmp_path / "restored-storage"
    restore = script("bin/restore.sh", str(dump), fresh_database, str(restored_storage))
    assert restore.returncode == 0, restore.stderr

    assert snapshot(fresh_database) == before
    assert (restored_storage / "covers" / "cover.png").read_bytes() == b"\x89PNG fake cover"
    again = script("bin/restore.sh", str(dump), fresh_database)
    assert again.returncode == 3 and "already has" in again.stderr  # never over a database with data

    restored = create_app(make_test_config(fresh_database, tmp_path / "restored-instance"))
    try:
        client = restored.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
        page = client.get(f"/projects/{live.slug}")
        assert page.status_code == 200 and live.title in page.get_data(as_text=True)
        api = client.get(f"/api/v1/projects/{live.slug}").get_json()
        assert api["pledged_cents"] == 6_000
    finally:
        restored.extensions["db_engine"].dispose()


def test_the_scripts_refuse_what_they_cannot_do(tmp_path):
    sqlite = script("bin/backup.sh", str(tmp_path), env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert sqlite.returncode == 2 and "PostgreSQL" in sqlite.stderr
    usage = script("bin/restore.sh")
    assert usage.returncode == 2 and "EMPTY database" in usage.stderr
    missing = script("bin/restore.sh", str(tmp_path / "nothing.dump"), "postgresql://127.0.0.1/x")
    assert missing.returncode == 2 and "no such backup" in missing.stderr
