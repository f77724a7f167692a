"""The localstripe launcher: loopback only, no stray pickle file, optional state file; GPL code stays outside."""

from __future__ import annotations

import ast
import json
import tempfile
import urllib.request
from pathlib import Path

import pytest

from payments.localstripe_admin import confirm_card_setup, run_localstripe
from payments.localstripe_server import is_loopback, parse_args
from payments.stripe_gateway import StripeGateway

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "payments" / "localstripe_server.py"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_served(host):
    assert is_loopback(host) and parse_args(["--host", host]).host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", ""])  # noqa: S104 - refused
def test_any_other_host_is_refused(host, capsys):
    assert not is_loopback(host)
    with pytest.raises(SystemExit):
        parse_args(["--host", host])
    assert "refusing to bind" in capsys.readouterr().err


def test_the_launcher_never_writes_localstripes_fixed_pickle_file(stripe_gateway):
    fixed = Path(tempfile.gettempdir()) / "localstripe.pickle"
    before = fixed.stat().st_mtime_ns if fixed.exists() else None
    stripe_gateway.create_customer(email="b@example.org", name="B", idempotency_key="c")
    assert (fixed.stat().st_mtime_ns if fixed.exists() else None) == before


def test_with_a_state_file_the_store_survives_a_restart(tmp_path):
    state = tmp_path / "localstripe.pickle"
    with run_localstripe(state_file=state) as url:
        gw = StripeGateway("sk_test_x", api_base=url)
        customer = gw.create_customer(email="b@example.org", name="B", idempotency_key="c")
        si = gw.create_setup_intent(
            customer_id=customer.id, payment_method_types=["card"], metadata={"pledge_id": "1"}, idempotency_key="s"
        )
        confirm_card_setup(url, si.client_secret)
    assert state.exists()
    with run_localstripe(state_file=state) as url:
        again = StripeGateway("sk_test_x", api_base=url).retrieve_setup_intent(si.id)
    assert again.succeeded and again.metadata == {"pledge_id": "1"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_launcher_imports_the_gpl_licensed_localstripe():
    sources = [p for d in ("crowdfund", "payments", "receipts", "bench") for p in (ROOT / d).rglob("*.py")]
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in sources + list(ROOT.glob("*.py"))
        if p != LAUNCHER and "localstripe" in imports_of(p)
    ]
    assert offenders == []
    assert "localstripe" in imports_of(LAUNCHER)


def charge_as_localstripe_shows_it(url: str, charge_id: str) -> dict:
    request = urllib.request.Request(f"{url}/v1/charges/{charge_id}", headers={"Authorization": "Bearer sk_test_x"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_the_refund_index_reports_a_charges_refunds_as_localstripe_does(stripe_gateway, localstripe):
    customer = stripe_gateway.create_customer(email="b@example.org", name="B", idempotency_key="c")
    pi = stripe_gateway.charge_off_session(
        customer_id=customer.id, payment_method_id="pm_card_visa", amount_cents=5000, currency="eur",
        metadata={}, idempotency_key="k",
    )  # fmt: skip
    refunds = [
        stripe_gateway.refund(payment_intent_id=pi.id, amount_cents=a, idempotency_key=str(a)) for a in (1000, 500)
    ]
    charge = charge_as_localstripe_shows_it(localstripe, pi.charge_id)
    assert (charge["amount_refunded"], charge["refunded"]) == (1500, False)
    assert {r["id"] for r in charge["refunds"]["data"]} == {r.id for r in refunds}
