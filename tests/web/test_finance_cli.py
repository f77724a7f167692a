"""`flask issue-receipts` and `flask export-finance --kind {receipts-zip,csv,datev,sepa}`."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.receipts import Payout, Receipt
from crowdfund.services import payouts
from payments.fake import FakeGateway
from receipts.fake_pdf import render_fake_receipt_pdf
from tests.factories import make_user
from tests.finance_factories import make_paid_project


@pytest.fixture
def fake(app) -> FakeGateway:
    app.extensions["receipt_renderer"] = render_fake_receipt_pdf
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def paid(app, session, fake):
    return make_paid_project(app, session, fake, [5_000, 2_500])


def period() -> list[str]:
    year = datetime.now(UTC).year
    return ["--from", f"{year}-01-01", "--to", f"{year}-12-31"]


def test_issue_receipts_issues_what_is_due_and_says_so(runner, session, paid):
    result = runner.invoke(args=["issue-receipts"])

    assert result.exit_code == 0, result.output
    assert "Issued 2 receipt(s)" in result.output
    assert len(session.scalars(select(Receipt)).all()) == 2
    assert "Issued 0 receipt(s)" in runner.invoke(args=["issue-receipts"]).output


def test_issue_receipts_exits_1_when_a_document_fails(app, runner, session, paid):
    def broken(data):
        raise RuntimeError("no fonts")

    app.extensions["receipt_renderer"] = broken

    result = runner.invoke(args=["issue-receipts"])

    assert result.exit_code == 1 and "no fonts" in result.output


@pytest.mark.parametrize(("kind", "starts"), [("csv", b"\xef\xbb\xbfentry_id,"), ("datev", b'"EXTF";700;21;'),
                                              ("receipts-zip", b"PK\x03\x04")])
def test_export_finance_writes_each_kind_to_the_file(runner, paid, tmp_path, kind, starts):
    runner.invoke(args=["issue-receipts"])
    out = tmp_path / f"export.{kind}"

    result = runner.invoke(args=["export-finance", "--kind", kind, *period(), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(starts)
    assert not out.with_name(out.name + ".part").exists()
    if kind == "receipts-zip":
        assert len(zipfile.ZipFile(out).namelist()) == 2


def test_export_finance_sepa_writes_the_approved_payouts(runner, session, paid, tmp_path):
    paid.project.state = "funded"
    session.commit()
    requester, approver = make_user(session, Role.FINANCE), make_user(session, Role.FINANCE)
    payout = payouts.request_payout(session, paid.project.id, iban="DE02120300000000202051", bic="",
                                    recipient_name="", actor_id=requester.id)
    session.commit()
    payouts.approve_payout(session, payout.id, expected_cents=7_500, actor_id=approver.id)
    session.commit()
    out = tmp_path / "sepa.xml"

    result = runner.invoke(args=["export-finance", "--kind", "sepa", *period(), "--out", str(out),
                                 "--execution-date", "2026-03-05"])

    assert result.exit_code == 0, result.output
    assert b"<CtrlSum>75.00</CtrlSum>" in out.read_bytes()
    session.expire_all()
    assert session.scalars(select(Payout.status)).all() == ["exported"]


def test_export_finance_refuses_bad_dates_and_kinds(runner, tmp_path):
    out = str(tmp_path / "x")
    assert runner.invoke(args=["export-finance", "--kind", "pdf", *period(), "--out", out]).exit_code == 2
    assert runner.invoke(args=["export-finance", "--kind", "csv", "--from", "01.01.2026", "--to", "2026-12-31",
                               "--out", out]).exit_code == 2
    datev = runner.invoke(args=["export-finance", "--kind", "datev", "--from", "2025-12-01", "--to", "2026-01-31",
                                "--out", out])
    assert datev.exit_code == 1 and "one fiscal year" in datev.output
