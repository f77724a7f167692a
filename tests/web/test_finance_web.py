"""The finance area: every page and export is for finance and admin only; the dashboard, exports, payouts and
reconciliation work through the web."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.receipts import Payout, PayoutExport, Receipt
from payments.fake import FakeGateway
from tests.conftest import CSRF_RE, csrf_token
from tests.factories import PASSWORD, make_user
from tests.finance_factories import issue_all, make_paid_project

IBAN = "DE02120300000000202051"
NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


@pytest.fixture
def fake(app) -> FakeGateway:
    gateway = FakeGateway(honour_idempotency_keys=False)
    app.extensions["payment_gateway"] = gateway
    return gateway


@pytest.fixture
def funded(app, session, fake):
    paid = make_paid_project(app, session, fake, [5_000, 2_500])
    issue_all(app)
    return paid


def year_query() -> str:
    year = datetime.now(UTC).year
    return f"start={year}-01-01&end={year}-12-31"


def get_routes(funded) -> list[str]:
    return ["/finance/", f"/finance/exports/journal.csv?{year_query()}", f"/finance/exports/datev.csv?{year_query()}",
            f"/finance/exports/receipts.zip?{year_query()}", "/finance/payouts",
            f"/finance/projects/{funded.project.id}/payout", f"/finance/reconciliation?{year_query()}",
            f"/finance/projects/{funded.project.id}/donation-profile", "/finance/payouts/exports/1.xml"]


POST_ROUTES = ["/finance/projects/{project}/payout", "/finance/payouts/1/approve", "/finance/payouts/export",
               "/finance/projects/{project}/donation-profile"]
OUTSIDERS = {"backer": (), "initiator": (Role.INITIATOR,), "juror": (Role.JUROR,)}


def login_as(session, auth, *roles: Role, name: str = "Someone"):
    user = make_user(session, *roles, name=name)
    user.locale = "en"
    session.commit()
    auth.login(user.email, PASSWORD)
    return user


def test_anonymous_visitors_are_sent_to_log_in_from_every_finance_page(client, funded):
    for path in get_routes(funded):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path


@pytest.mark.parametrize("who", OUTSIDERS)
def test_backers_initiators_and_jurors_get_403_on_every_finance_route(client, session, auth, funded, who):
    login_as(session, auth, *OUTSIDERS[who])
    token = csrf_token(client, "/")

    for path in get_routes(funded):
        assert client.get(path).status_code == 403, path
    for path in POST_ROUTES:
        response = client.post(path.format(project=funded.project.id), data={"csrf_token": token})
        assert response.status_code == 403, path


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_finance_and_admin_open_every_finance_page(client, session, auth, funded, role):
    login_as(session, auth, role)

    for path in get_routes(funded)[:-1]:
        response = client.get(path)
        response.get_data()  # a streamed body is read to its end (its transaction closes then), as a server does
        assert response.status_code == 200, path
    assert client.get("/finance/payouts/exports/1.xml").status_code == 404  # none exported yet


def test_the_dashboard_shows_totals_and_an_inline_svg_chart(client, session, auth, funded):
    login_as(session, auth, Role.FINANCE)

    html = client.get(f"/finance/?{year_query()}").get_data(as_text=True)

    assert "<svg" in html and "finance-chart" in html and "<script" not in html.split("<main", 1)[1]
    assert "€75.00" in html and funded.project.title in html


def test_a_bad_filter_is_a_bad_request(client, session, auth, funded):
    login_as(session, auth, Role.FINANCE)

    assert client.get("/finance/?start=yesterday").status_code == 400
    assert client.get("/finance/exports/datev.csv").status_code == 400  # DATEV needs a period


def test_the_exports_download_from_the_page(client, session, auth, funded):
    login_as(session, auth, Role.FINANCE)

    # each streamed body is read before the next request, as a server does
    journal = client.get(f"/finance/exports/journal.csv?{year_query()}").get_data()
    datev = client.get(f"/finance/exports/datev.csv?{year_query()}")
    datev_body = datev.get_data()
    archive = client.get(f"/finance/exports/receipts.zip?{year_query()}").get_data()

    assert len(list(csv.reader(io.StringIO(journal.decode("utf-8-sig"))))) == 3
    assert datev.mimetype == "text/csv" and datev_body.startswith(b'"EXTF";700;21;"Buchungsstapel";13;')
    assert "attachment" in datev.headers["Content-Disposition"]
    numbers = sorted(session.scalars(select(Receipt.number)))
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        assert zipped.namelist() == [f"{n}.pdf" for n in numbers]


def test_a_payout_is_requested_approved_by_another_person_and_exported_as_sepa(client, session, auth, funded):
    login_as(session, auth, Role.FINANCE, name="Requester")
    path = f"/finance/projects/{funded.project.id}/payout"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "iban": "DE02 1203 0000 0000 2020 51",
                                       "bic": "", "recipient_name": "Verein Nachbarschaft e. V."})
    assert response.status_code == 302
    payout = session.scalars(select(Payout)).one()

    own = approve(client, payout)
    assert own.status_code == 303 and session.get(Payout, payout.id).status == "requested"  # four eyes
    auth.logout()
    login_as(session, auth, Role.FINANCE, name="Approver")
    assert approve(client, payout).status_code == 303
    session.expire_all()
    assert session.get(Payout, payout.id).status == "approved"

    exported = client.post("/finance/payouts/export", data={"csrf_token": csrf_token(client, "/finance/payouts"),
                                                            "execution_date": NEXT_WEEK})
    assert exported.status_code == 303
    xml = client.get(exported.headers["Location"])
    assert xml.status_code == 200 and b"pain.001.001.03" in xml.data and IBAN.encode() in xml.data
    assert xml.data == session.scalars(select(PayoutExport)).one().xml


def approve(client, payout):
    html = client.get("/finance/payouts").get_data(as_text=True)
    expected = re.search(r'name="expected_cents" type="hidden" value="(\d+)"', html).group(1)
    return client.post(f"/finance/payouts/{payout.id}/approve",
                       data={"csrf_token": CSRF_RE.search(html).group(1), "expected_cents": expected})


def test_an_invalid_iban_is_shown_on_the_form(client, session, auth, funded):
    login_as(session, auth, Role.FINANCE)
    path = f"/finance/projects/{funded.project.id}/payout"

    response = client.post(path, data={"csrf_token": csrf_token(client, path), "iban": "DE00 1234",
                                       "recipient_name": "X"})

    assert response.status_code == 422 and "This IBAN is not valid." in response.get_data(as_text=True)
    assert session.scalars(select(Payout)).first() is None


def test_the_reconciliation_page_lists_a_difference(client, session, auth, funded, fake):
    login_as(session, auth, Role.FINANCE)
    pledge = funded.pledges[0]
    fake.charge_off_session(customer_id=pledge.customer_id, payment_method_id="pm_card_visa", amount_cents=999,
                            currency="eur", metadata={"pledge_id": str(pledge.id)}, idempotency_key="extra")

    html = client.get(f"/finance/reconciliation?{year_query()}").get_data(as_text=True)

    assert "missing_locally" in html and "9.99" in html


def test_finance_saves_the_recipients_tax_facts_and_the_waiting_donation_receipt_is_issued(app, client, session,
                                                                                          auth, fake):
    from tests.finance_factories import give_address

    paid = make_paid_project(app, session, fake, [10_000], tax_privileged=True)
    give_address(session, paid.pledges[0].backer)
    assert issue_all(app).waiting  # no tax facts yet
    login_as(session, auth, Role.FINANCE)
    path = f"/finance/projects/{paid.project.id}/donation-profile"

    response = client.post(path, data={"csrf_token": csrf_token(client, path), "purpose": "des Umweltschutzes",
                                       "tax_office": "Kassel-Hofgeismar", "tax_number": "026 250 12345",
                                       "notice_date": "2025-02-14", "notice_kind": "exemption_notice",
                                       "assessment_period": "", "place": "Kassel", "signatory": "Vera Vorstand"})

    assert response.status_code == 302
    assert issue_all(app).issued == [f"KSP{paid.project.id}-2026-000001"]
    assert session.scalars(select(Receipt.kind)).all() == ["donation_receipt"]


def test_the_tax_facts_page_is_for_finance_and_admin_only(client, session, auth, funded):
    path = f"/finance/projects/{funded.project.id}/donation-profile"
    assert client.get(path).status_code == 302
    login_as(session, auth, Role.INITIATOR)
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": csrf_token(client, "/")}).status_code == 403


@pytest.mark.parametrize(("days", "message"), [(-1, "cannot be in the past"), (400, "within the next year")])
def test_a_sepa_export_dated_in_the_past_or_beyond_a_year_is_refused_on_the_date(client, auth, session, days,
                                                                                   message):
    login_as(session, auth, Role.FINANCE, name="Exporter")
    day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    response = client.post("/finance/payouts/export", data={
        "csrf_token": csrf_token(client, "/finance/payouts"), "execution_date": day})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalars(select(PayoutExport)).first() is None
