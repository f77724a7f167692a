"""A backer sees and downloads their own receipts (web and API); anybody else gets 404; finance and admin
see all; every download returns the stored bytes."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.receipts import Receipt, ReceiptAddress
from payments.fake import FakeGateway
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_api_token, make_user
from tests.finance_factories import issue_all, make_paid_project


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway(honour_idempotency_keys=False)


@pytest.fixture
def issued(app, session, fake):
    """Two backers with one payment confirmation each; returns (owner, receipt of the owner, other receipt)."""
    paid = make_paid_project(app, session, fake, [5_000, 7_000])
    issue_all(app)
    session.expire_all()
    mine, theirs = session.scalars(select(Receipt).order_by(Receipt.id)).all()
    return paid.pledges[0].backer, mine, theirs


PEOPLE = {
    "other backer": (),
    "initiator": (Role.INITIATOR,),
    "juror": (Role.JUROR,),
}


def login_as(session, auth, *roles: Role):
    user = make_user(session, *roles)
    auth.login(user.email, PASSWORD)
    return user


def test_the_owner_downloads_the_same_stored_bytes_every_time(client, auth, issued):
    owner, mine, _theirs = issued
    auth.login(owner.email, PASSWORD)

    first = client.get(f"/receipts/{mine.number}.pdf")
    second = client.get(f"/receipts/{mine.number}.pdf")

    assert first.status_code == second.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.data == second.data == mine.pdf
    assert hashlib.sha256(first.data).hexdigest() == mine.sha256
    assert first.headers["Cache-Control"] == "private, no-store"


def test_the_owner_lists_their_own_receipts_only(client, auth, issued):
    owner, mine, theirs = issued
    auth.login(owner.email, PASSWORD)

    html = client.get("/account/receipts").get_data(as_text=True)

    assert mine.number in html and theirs.number not in html


def test_anonymous_visitors_are_sent_to_log_in(client, issued):
    _owner, mine, _theirs = issued

    for path in (f"/receipts/{mine.number}.pdf", "/account/receipts"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("who", PEOPLE)
def test_anybody_else_gets_404_for_a_receipt(client, session, auth, issued, who):
    _owner, mine, _theirs = issued
    login_as(session, auth, *PEOPLE[who])

    assert client.get(f"/receipts/{mine.number}.pdf").status_code == 404


def test_an_unknown_number_is_404_too(client, auth, issued):
    owner, _mine, _theirs = issued
    auth.login(owner.email, PASSWORD)

    assert client.get("/receipts/KS-2026-999999.pdf").status_code == 404


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_finance_and_admin_download_any_receipt(client, session, auth, issued, role):
    _owner, mine, theirs = issued
    login_as(session, auth, role)

    for receipt in (mine, theirs):
        response = client.get(f"/receipts/{receipt.number}.pdf")
        assert response.status_code == 200 and response.data == receipt.pdf


def test_a_numbered_receipt_without_bytes_is_not_downloadable(client, session, auth, issued):
    owner, mine, _theirs = issued
    session.execute(Receipt.__table__.update().where(Receipt.id == mine.id).values(status="numbered", pdf=None))
    session.commit()
    auth.login(owner.email, PASSWORD)

    assert client.get(f"/receipts/{mine.number}.pdf").status_code == 404
    assert client.get("/account/receipts").status_code == 200


def test_the_backer_saves_an_address_for_receipts(client, session, auth, issued):
    owner, _mine, _theirs = issued
    auth.login(owner.email, PASSWORD)
    token = csrf_token(client, "/account/receipts")

    response = client.post("/account/receipts/address", data={"csrf_token": token, "name": "Bea Backer",
                                                              "address": "Wilhelmshöher Allee 73\n34121 Kassel"})

    assert response.status_code == 302
    address = session.scalars(select(ReceiptAddress).where(ReceiptAddress.user_id == owner.id)).one()
    assert address.address.startswith("Wilhelmshöher Allee 73")


def test_an_address_without_the_csrf_token_is_refused(client, auth, issued):
    owner, _mine, _theirs = issued
    auth.login(owner.email, PASSWORD)

    response = client.post("/account/receipts/address", data={"name": "X", "address": "Y"})

    assert response.status_code in (400, 422)


# --- API -----------------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_the_token_owners_receipts(client, session, issued):
    owner, mine, _theirs = issued
    token = make_api_token(session, owner)

    response = client.get("/api/v1/me/receipts", headers=bearer(token))

    assert response.status_code == 200
    body = response.get_json()
    assert [r["number"] for r in body] == [mine.number]
    assert body[0]["sha256"] == mine.sha256 and body[0]["amount_cents"] == 5_000
    assert body[0]["pdf_url"] == f"/api/v1/receipts/{mine.number}.pdf"


def test_the_api_returns_the_stored_pdf_to_its_owner_and_404_to_anybody_else(client, session, issued):
    owner, mine, _theirs = issued
    other = make_user(session, Role.INITIATOR)

    own = client.get(f"/api/v1/receipts/{mine.number}.pdf", headers=bearer(make_api_token(session, owner)))
    foreign = client.get(f"/api/v1/receipts/{mine.number}.pdf", headers=bearer(make_api_token(session, other)))

    assert own.status_code == 200 and own.data == mine.pdf
    assert foreign.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/me/receipts", "/api/v1/receipts/KS-2026-000001.pdf"])
def test_the_api_wants_a_token(client, issued, path):
    assert client.get(path).status_code == 401


def test_finance_downloads_any_receipt_through_the_api(client, session, issued):
    _owner, mine, _theirs = issued
    token = make_api_token(session, make_user(session, Role.FINANCE))

    response = client.get(f"/api/v1/receipts/{mine.number}.pdf", headers=bearer(token))

    assert response.status_code == 200 and response.data == mine.pdf
