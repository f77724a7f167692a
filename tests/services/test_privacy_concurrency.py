"""Two admins deleting their accounts at the same moment on PostgreSQL: exactly one of them may go.

PostgreSQL only (row locks): run with TEST_DATABASE_URL=postgresql://... and `-m postgres`."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowdfund.domain.roles import Role
from crowdfund.models.users import User, UserRole
from crowdfund.services import privacy
from tests.services.test_jury_world import make_person

pytestmark = [pytest.mark.postgres]


def delete_at_once(factory, user_ids: list[int]) -> Counter[str]:
    """Delete each account in its own thread and transaction, all released by one barrier."""
    barrier, outcomes, lock = threading.Barrier(len(user_ids)), Counter(), threading.Lock()

    def run(user_id: int) -> None:
        session = factory()
        try:
            user = session.get(User, user_id)
            barrier.wait(10)
            privacy.delete_account(session, user, now=datetime.now(UTC))
            session.commit()
            outcome = "deleted"
        except privacy.SoleAdmin:
            session.rollback()
            outcome = "refused"
        except Exception as error:  # counted by name, so the assertion shows it
            session.rollback()
            outcome = f"LEAKED {type(error).__name__}: {error}"
        finally:
            session.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_of_two_admins_deleting_themselves_at_once_one_stays(app, session):
    factory = app.extensions["db_sessionmaker"]
    assert app.extensions["db_engine"].dialect.name == "postgresql", "needs PostgreSQL row locks"
    admins = [make_person(session, Role.ADMIN, name=f"Admin {n}") for n in range(2)]

    outcomes = delete_at_once(factory, [a.id for a in admins])

    assert outcomes == Counter({"deleted": 1, "refused": 1})
    active_admins = (select(func.count()).select_from(UserRole).join(User, User.id == UserRole.user_id)
                     .where(UserRole.role == Role.ADMIN.value, User.active.is_(True)))
    assert session.scalar(active_admins) == 1
