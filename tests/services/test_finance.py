"""The finance dashboard's figures by contest, project and period, and its server-side SVG chart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import update

from crowdfund.models.ledger import LedgerEntry
from crowdfund.models.pledges import Pledge
from crowdfund.services.finance import Figures, FinanceFilter, Period, dashboard, figures_by_day
from crowdfund.services.finance_chart import cumulative, money_chart_svg
from payments.fake import FakeGateway
from tests.factories import make_pledge
from tests.finance_factories import make_paid_project, refund

LABELS = {"in": "In <&>", "refunded": "Refunded", "paid_out": "Paid out", "held": "Held"}


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def money(app, session, fake):
    """Two projects of one contest: 50 + 25 EUR charged (10 refunded), and 30 EUR; one failed pledge."""
    first = make_paid_project(app, session, fake, [5_000, 2_500], title="Alpha")
    second = make_paid_project(app, session, fake, [3_000], world=first.world, title="Beta")
    refund(session, fake, first.pledges[0], 1_000)
    make_pledge(session, second.project, second.pledges[0].backer, 700, status="failed")
    return first, second


def test_the_totals_add_up_the_ledger_and_the_pledges(session, money):
    board = dashboard(session, FinanceFilter())

    total = board.total
    assert (total.pledged, total.charged, total.failed, total.refunded) == (11_200, 10_500, 700, 1_000)
    assert (total.matched, total.fees, total.paid_out) == (0, 0, 0)
    assert total.outstanding == 9_500


def test_the_figures_are_grouped_by_project_and_contest(session, money):
    board = dashboard(session, FinanceFilter())

    by_project = {project.title: figures for project, figures in board.by_project}
    assert (by_project["Alpha"].charged, by_project["Alpha"].refunded) == (7_500, 1_000)
    assert (by_project["Beta"].charged, by_project["Beta"].failed) == (3_000, 700)
    assert [(name, figures.charged) for name, figures in board.by_contest] == [("Crowdfunding-Wettbewerb Test",
                                                                                 10_500)]


def test_the_project_and_status_filters_narrow_the_figures(session, money):
    first, second = money
    only_alpha = dashboard(session, FinanceFilter(project_id=first.project.id)).total
    second.project.state = "ended"
    session.commit()
    only_funded = dashboard(session, FinanceFilter(state="funded")).total

    assert only_alpha.charged == only_funded.charged == 7_500


def test_the_period_filter_uses_local_days_and_groups_by_month(session, money):
    session.execute(update(LedgerEntry).where(LedgerEntry.kind == "refund")
                    .values(created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC)))  # 1 Feb in Berlin
    session.execute(update(Pledge).values(created_at=datetime(2026, 1, 15, 12, tzinfo=UTC)))
    session.commit()

    february = dashboard(session, FinanceFilter(Period(date(2026, 2, 1), date(2026, 2, 28)))).total
    january = dashboard(session, FinanceFilter(Period(date(2026, 1, 1), date(2026, 1, 31)))).total
    months = dict(dashboard(session, FinanceFilter()).by_month)

    assert (february.refunded, january.refunded, january.pledged) == (1_000, 0, 11_200)
    assert months["2026-02"].refunded == 1_000 and months["2026-01"].pledged == 11_200


def test_the_days_of_the_chart_are_in_order_and_add_up(session, money):
    days = figures_by_day(session, FinanceFilter())

    assert [day for day, _f in days] == sorted(day for day, _f in days)
    assert sum(f.charged for _d, f in days) == 10_500


def test_the_chart_is_an_svg_of_cumulative_lines_with_escaped_labels():
    days = [(date(2026, 3, 1) + timedelta(days=i), Figures(charged=1_000 * (i + 1), refunded=100 * i))
            for i in range(3)]

    svg = money_chart_svg(days, LABELS, money=lambda cents: f"{cents / 100:.2f}", title="Money <over> time")

    root = ElementTree.fromstring(svg)  # noqa: S314 (our own output) well-formed XML: labels were escaped
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 4
    assert "<script" not in svg and "In &lt;&amp;&gt;" in svg
    assert cumulative(days)["in"] == [1_000, 3_000, 6_000]
    assert cumulative(days)["held"] == [1_000, 2_900, 5_700]


def test_no_days_draw_no_chart():
    assert money_chart_svg([], LABELS, money=str, title="t") == ""
