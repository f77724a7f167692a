"""kill -9 in the middle of `settle` against localstripe, then a normal `flask --app wsgi settle`: one
PaymentIntent per pledge, every pledge paid, and the ledger equal to the provider's records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from tests.factories import make_active_pledge, make_backer, make_campaign_world, make_due_campaign

ROOT = Path(__file__).resolve().parents[2]
DYING_SETTLE = [sys.executable, str(ROOT / "tests" / "support" / "settle_and_die.py")]
SETTLE = [sys.executable, "-m", "flask", "--app", "wsgi", "settle"]


def settle_env(database_url: str, localstripe: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CROWDFUND_ENV": "test", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
            "STRIPE_SECRET_KEY": "sk_test_localstripe", "STRIPE_API_BASE": localstripe, **extra}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("when", ["before", "after"])
def test_settle_killed_around_a_charge_then_run_again_charges_each_pledge_once(
        app, session, database_url, localstripe, stripe_gateway, tmp_path, when):
    project = make_due_campaign(session, make_campaign_world(session), threshold_cents=1_000)
    pledges = [make_active_pledge(session, project, make_backer(session), 1_000 + i, stripe_gateway,
                                  localstripe_url=localstripe) for i in range(5)]
    env = settle_env(database_url, localstripe, tmp_path)
    started = time.monotonic()

    killed = run(DYING_SETTLE, {**env, "DIE_WHEN": when, "DIE_AT": "3"})
    rerun = run(SETTLE, env)

    elapsed = time.monotonic() - started
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "Recovered 5 earlier attempt(s)" in rerun.stdout  # the whole batch: recorded, outcomes lost
    found = [stripe_gateway.find_payment_intents(metadata_key="pledge_id", metadata_value=str(p.id))
             for p in pledges]
    assert [[pi.status for pi in f] for f in found] == [["succeeded"]] * 5
    session.expire_all()
    assert [session.get(Pledge, p.id).status for p in pledges] == ["paid"] * 5
    booked = {e.provider_ref: e.amount_cents for e in session.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == "charge"))}
    assert booked == {f[0].id: f[0].amount_cents for f in found}  # ledger == provider
    print(f"kill -9 {when} the 3rd charge, rerun: {elapsed:.1f} s for both processes")
