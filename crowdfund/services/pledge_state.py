"""The one way a pledge changes status: through the domain table, with an audit row."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdfund.db import utcnow
from crowdfund.domain.pledges import PledgeAction, PledgeStatus, is_repeat, next_status
from crowdfund.models.pledges import Pledge
from crowdfund.services.audit import record_change


def apply_pledge_action(session: Session, pledge: Pledge, action: PledgeAction, *, actor_id: int | None,
                        reason: str | None = None) -> bool:
    """Move the pledge by `action`; return False for a repeat (no change, no audit row).

    An action the table does not allow raises IllegalPledgeTransition and changes nothing."""
    if is_repeat(pledge.status, action):
        return False
    before = PledgeStatus(pledge.status)
    after = next_status(before, action)
    pledge.status = after.value
    if after == PledgeStatus.ACTION_REQUIRED:
        pledge.action_required_at = utcnow()
    if after == PledgeStatus.PAID:
        pledge.paid_at = utcnow()
    record_change(session, entity_type="pledge", entity_id=pledge.id, action=action.value, actor_id=actor_id,
                  from_state=before.value, to_state=after.value, reason=reason)
    return True
