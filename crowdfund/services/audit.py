from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.models.audit import AuditEntry


def record_change(
    session: Session,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    actor_id: int | None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append an audit row; rows are never updated or deleted."""
    entry = AuditEntry(
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry


def history(session: Session, entity_type: str, entity_id: int) -> list[AuditEntry]:
    """Return the audit trail of one entity, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))
