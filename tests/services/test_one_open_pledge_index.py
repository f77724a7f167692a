"""The partial unique index behind "one open pledge per backer and project" (migration 0006_indexes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crowdfund.models.pledges import Pledge
from crowdfund.services import pledges
from crowdfund.services.pledges import PledgeRules
from payments.fake import FakeGateway
from tests.factories import make_pledge_world

RULES = PledgeRules(min_cents=100, max_cents=1_000_000, payment_method_types=("card",))


def start(session, gateway, project, backer, amount_cents=2_500):
    return pledges.start_pledge(session, gateway, project=project, backer=backer, amount_cents=amount_cents,
                                reward_id=None, anonymous=False, message="", payment_method_type="card",
                                now=datetime.now(UTC), rules=RULES)


def open_count(session, project, backer) -> int:
    return session.scalar(select(func.count()).select_from(Pledge).where(
        Pledge.project_id == project.id, Pledge.backer_id == backer.id, Pledge.status.in_(pledges.OPEN_STATUSES)))


def test_the_database_refuses_a_second_open_pledge_but_not_a_closed_one(session):
    _world, project, _reward, backer = make_pledge_world(session)
    values = {"project_id": project.id, "backer_id": backer.id, "amount_cents": 1_000}
    session.add(Pledge(status="active", **values))
    session.commit()
    session.add(Pledge(status="pending_setup", **values))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    session.add_all([Pledge(status="cancelled", **values), Pledge(status="released", **values)])
    session.commit()
    assert open_count(session, project, backer) == 1


def test_a_writer_that_missed_the_locked_check_gets_the_same_clear_refusal(session, monkeypatch):
    _world, project, _reward, backer = make_pledge_world(session)
    gateway = FakeGateway()
    first = start(session, gateway, project, backer).pledge
    session.commit()
    real, calls = pledges.open_pledge, []

    def blind_first(*args, **kwargs):  # the check under the lock sees nothing, as if raced
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(pledges, "open_pledge", blind_first)
    with pytest.raises(pledges.PledgeExists) as caught:
        start(session, gateway, project, backer, 5_000)
    session.rollback()
    assert caught.value.pledge.id == first.id and len(calls) == 2
    assert open_count(session, project, backer) == 1


def test_a_violation_whose_other_pledge_cannot_be_found_is_still_a_field_error(session, monkeypatch):
    """Never an IntegrityError (a 500): at worst a field-level refusal naming the project."""
    _world, project, _reward, backer = make_pledge_world(session)
    gateway = FakeGateway()
    first = start(session, gateway, project, backer).pledge
    session.commit()
    monkeypatch.setattr(pledges, "open_pledge", lambda *a, **k: None)
    with pytest.raises(pledges.PledgeInvalid) as caught:
        start(session, gateway, project, backer, 5_000)
    session.rollback()
    assert caught.value.errors == {"project": "already_backed"}
    assert open_count(session, project, backer) == 1 and first.id
