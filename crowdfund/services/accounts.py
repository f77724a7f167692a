"""Accounts: registration, authentication, roles, password resets and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from crowdfund.db import utcnow
from crowdfund.domain.roles import Role
from crowdfund.models.users import ApiToken, User, UserRole
from crowdfund.services.audit import record_change

TOKEN_PREFIX = "cfk_"  # noqa: S105 (a public prefix, not a secret)
RESET_SALT = "password-reset"
MIN_PASSWORD_LENGTH = 10
# A token's last use is shown to the minute: noting it at most once a minute spares most API requests a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# Checked against when an e-mail is unknown so that both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A request about an account that cannot be fulfilled; `field` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == normalize_email(email))
    return session.scalars(stmt).first()


def register_user(
    session: Session, *, email: str, name: str, password: str, roles: Iterable[Role] = ()
) -> User:
    """Create a user; reject a duplicate e-mail and a short password."""
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise AccountError("duplicate_email", field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short", field="password")
    user = User(email=email, name=name.strip(), password_hash=generate_password_hash(password))
    user.role_rows = [UserRole(role=role.value) for role in sorted(set(roles)) if role != Role.BACKER]
    session.add(user)
    session.flush()
    record_change(session, entity_type="user", entity_id=user.id, action="registered", actor_id=None)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, else None (in constant-ish time)."""
    user = find_user_by_email(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str, *, actor_id: int | None) -> None:
    """Replace the password; this also invalidates outstanding reset links."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short", field="password")
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = utcnow()
    session.flush()
    record_change(session, entity_type="user", entity_id=user.id, action="password_changed", actor_id=actor_id)


def set_roles(session: Session, user: User, roles: Iterable[Role], *, actor_id: int | None) -> None:
    """Give the user exactly `roles` (backer is implicit and never stored); audit each change."""
    wanted = {role.value for role in roles if role != Role.BACKER}
    for row in list(user.role_rows):
        if row.role not in wanted:
            user.role_rows.remove(row)
            record_change(session, entity_type="user", entity_id=user.id, action="role_revoked",
                          actor_id=actor_id, from_state=row.role)
    have = {row.role for row in user.role_rows}
    for role in sorted(wanted - have):
        user.role_rows.append(UserRole(role=role))
        record_change(session, entity_type="user", entity_id=user.id, action="role_granted",
                      actor_id=actor_id, to_state=role)
    session.flush()


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()


# Password reset tokens: signed, time-limited, and void once the password changed.
def make_reset_token(secret_key: str, user: User) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=RESET_SALT)
    return serializer.dumps({"uid": user.id, "pw": user.password_hash[-16:]})


def user_for_reset_token(session: Session, secret_key: str, token: str, max_age: int) -> User | None:
    """Return the user a valid, unused, unexpired reset token belongs to, else None."""
    serializer = URLSafeTimedSerializer(secret_key, salt=RESET_SALT)
    try:
        data = serializer.loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    user = session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.password_hash[-16:] != data.get("pw"):
        return None
    return user


# Personal API tokens
def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """Create a token and return it in clear once, with its stored row (which holds only a hash)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip() or "token", prefix=raw[:10], token_hash=_hash_token(raw))
    session.add(row)
    session.flush()
    record_change(session, entity_type="api_token", entity_id=row.id, action="created", actor_id=user.id)
    return raw, row


def user_for_api_token(session: Session, raw: str, now: datetime | None = None) -> User | None:
    """Return the active owner of a valid, unrevoked token and note its use."""
    stmt = select(ApiToken).where(ApiToken.token_hash == _hash_token(raw)).options(joinedload(ApiToken.user))
    row = session.scalars(stmt).first()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return row.user


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens; return False if there is no such token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    record_change(session, entity_type="api_token", entity_id=row.id, action="revoked", actor_id=user.id)
    return True
