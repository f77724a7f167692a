import hashlib

import pytest
from sqlalchemy import select

from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.users import ApiToken
from crowdfund.services import accounts
from tests.factories import PASSWORD, make_user

SECRET = "test-secret-key"


def test_registration_stores_a_scrypt_hash_and_a_normalised_email(session):
    user = accounts.register_user(session, email=" Alice@Example.ORG ", name="Alice", password=PASSWORD)
    assert user.email == "alice@example.org"
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert user.roles == {Role.BACKER}


def test_duplicate_email_is_refused_whatever_its_case(session):
    make_user(session, email="bob@example.org")
    with pytest.raises(accounts.AccountError) as info:
        accounts.register_user(session, email="BOB@example.org", name="Bob", password=PASSWORD)
    assert info.value.field == "email"


def test_short_password_is_refused(session):
    with pytest.raises(accounts.AccountError, match="password_too_short"):
        accounts.register_user(session, email="c@example.org", name="C", password="short")


def test_authentication_needs_the_right_password_and_an_active_account(session):
    user = make_user(session, email="dora@example.org")
    assert accounts.authenticate(session, "DORA@example.org", PASSWORD) is user
    assert accounts.authenticate(session, "dora@example.org", "wrong password!") is None
    assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None
    user.active = False
    assert accounts.authenticate(session, "dora@example.org", PASSWORD) is None


def test_reset_token_works_once_and_dies_with_the_password_change(session):
    user = make_user(session)
    token = accounts.make_reset_token(SECRET, user)
    assert accounts.user_for_reset_token(session, SECRET, token, max_age=3600) is user
    accounts.set_password(session, user, "a brand new password", actor_id=user.id)
    assert accounts.user_for_reset_token(session, SECRET, token, max_age=3600) is None


def test_reset_token_is_rejected_when_tampered_or_signed_with_another_key(session):
    user = make_user(session)
    token = accounts.make_reset_token(SECRET, user)
    assert accounts.user_for_reset_token(session, SECRET, token + "x", max_age=3600) is None
    assert accounts.user_for_reset_token(session, "other-key", token, max_age=3600) is None


def test_expired_reset_token_is_rejected(session):
    user = make_user(session)
    token = accounts.make_reset_token(SECRET, user)
    assert accounts.user_for_reset_token(session, SECRET, token, max_age=-1) is None


def test_api_token_is_stored_only_as_its_sha256(session):
    user = make_user(session)
    raw, _row = accounts.create_api_token(session, user, "laptop")
    assert raw.startswith("cfk_") and len(raw) > 40
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.token_hash, stored.prefix, stored.name)
    assert accounts.user_for_api_token(session, raw) is user and stored.last_used_at is not None


def test_revoked_token_no_longer_authenticates_and_only_the_owner_can_revoke(session):
    owner, other = make_user(session), make_user(session)
    raw, row = accounts.create_api_token(session, owner, "ci")
    assert accounts.revoke_api_token(session, other, row.id) is False
    assert accounts.revoke_api_token(session, owner, row.id) is True
    assert accounts.user_for_api_token(session, raw) is None


def test_set_roles_grants_and_revokes_with_an_audit_row_each(session):
    admin, user = make_user(session, Role.ADMIN), make_user(session, Role.JUROR)
    accounts.set_roles(session, user, {Role.FINANCE, Role.INITIATOR}, actor_id=admin.id)
    assert user.roles == {Role.BACKER, Role.FINANCE, Role.INITIATOR}
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == user.id, AuditEntry.actor_id == admin.id)
    ).all()
    assert sorted(actions) == ["role_granted", "role_granted", "role_revoked"]
