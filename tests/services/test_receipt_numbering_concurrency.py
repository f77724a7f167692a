"""Receipts issued at the same moment on PostgreSQL get distinct, consecutive numbers: no gap, no duplicate.

PostgreSQL only (row locks): run with TEST_DATABASE_URL=postgresql://... and `-m postgres`."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from crowdfund.models.receipts import Receipt, ReceiptCounter
from crowdfund.services import receipts
from payments.fake import FakeGateway
from receipts.fake_pdf import render_fake_receipt_pdf
from tests.finance_factories import SETTINGS, TODAY, make_paid_project

pytestmark = [pytest.mark.postgres]
N = 20


@pytest.fixture
def factory(app):
    engine = app.extensions["db_engine"]
    assert engine.dialect.name == "postgresql", (
        "This test needs PostgreSQL row locks: set TEST_DATABASE_URL=postgresql://... (it is marked `postgres`; "
        "leave it out of the SQLite run with -m 'not postgres')."
    )
    return app.extensions["db_sessionmaker"]


def slow_renderer(data):
    time.sleep(0.02)  # rendering happens outside the numbering transaction: it must not serialise issuers
    return render_fake_receipt_pdf(data)


def run_together(jobs) -> list[BaseException]:
    barrier, errors = threading.Barrier(len(jobs)), []

    def run(job) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_twenty_concurrent_issues_get_twenty_distinct_consecutive_numbers(app, session, factory):
    paid = make_paid_project(app, session, FakeGateway(honour_idempotency_keys=False), [1_000 + i for i in range(N)])

    def issue(pledge_id: int):
        return lambda: receipts.issue_one(factory, slow_renderer, lambda s: receipts.number_payment_document(
            s, pledge_id, SETTINGS, today=TODAY))

    errors = run_together([issue(p.id) for p in paid.pledges])

    assert errors == []
    rows = session.scalars(select(Receipt).order_by(Receipt.sequence)).all()
    assert [r.sequence for r in rows] == list(range(1, N + 1))
    assert len({r.number for r in rows}) == N and len({r.pledge_id for r in rows}) == N
    assert {r.status for r in rows} == {"issued"}
    assert session.scalar(select(ReceiptCounter.last_sequence)) == N


def test_two_passes_racing_over_the_same_pledges_issue_each_document_once_without_gaps(app, session, factory):
    make_paid_project(app, session, FakeGateway(honour_idempotency_keys=False), [500 + i for i in range(N)])

    def whole_pass():
        receipts.issue_receipts_pending(factory, slow_renderer, SETTINGS, today=TODAY)

    errors = run_together([whole_pass, whole_pass, whole_pass])

    assert errors == []
    rows = session.scalars(select(Receipt).order_by(Receipt.sequence)).all()
    assert [r.sequence for r in rows] == list(range(1, N + 1))
    assert session.scalar(select(ReceiptCounter.last_sequence)) == N
