"""An API token's last use is noted at most once a minute (it is shown to the minute), so that a client's
stream of API requests does not write the token row on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crowdfund.services import accounts
from tests.factories import make_user


def test_a_token_used_again_within_a_minute_is_not_written_again(session):
    user = make_user(session)
    raw, row = accounts.create_api_token(session, user, "client")
    first = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    assert accounts.user_for_api_token(session, raw, now=first) is user
    assert accounts.user_for_api_token(session, raw, now=first + timedelta(seconds=59)) is user
    assert row.last_used_at == first and not session.dirty
    assert accounts.user_for_api_token(session, raw, now=first + timedelta(seconds=60)) is user
    assert row.last_used_at == first + timedelta(seconds=60)
