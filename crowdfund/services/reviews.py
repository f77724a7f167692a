"""The review and lifecycle of pitches: every state change goes through the domain's transition table
and appends one audit row; the admins' review queue and a project's history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crowdfund.domain.projects import ProjectAction, ProjectState, allowed_actions, is_noop, transition
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.contests import Contest
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services.audit import record_change
from crowdfund.services.projects import ProjectInvalid, missing_for_submission

ENTITY = "project"
REASON_MAX_LENGTH = 5000
INITIATOR_ACTIONS = frozenset({ProjectAction.SUBMIT, ProjectAction.WITHDRAW})
ADMIN_ACTIONS = frozenset(
    {ProjectAction.REQUEST_CHANGES, ProjectAction.APPROVE, ProjectAction.REJECT, ProjectAction.PUBLISH}
)
REASON_REQUIRED = frozenset({ProjectAction.REQUEST_CHANGES, ProjectAction.REJECT})


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    actor_name: str | None  # None: the system (e.g. the scheduled publishing)


def apply_action(session: Session, project: Project, action: ProjectAction | str, *, actor: User | None,
                 reason: str | None = None, now: datetime) -> bool:
    """Move `project` by `action` and append one audit row; return False for a repeat, which changes nothing.

    The transition table decides (IllegalTransition otherwise). Submitting needs a complete pitch,
    asking for changes and rejecting need a reason, publishing needs a deadline still ahead."""
    action = ProjectAction(action)
    session.flush()
    session.refresh(project, with_for_update=True)  # two admins clicking at once: one change, one audit row
    if is_noop(project.state, action):
        return False
    target = transition(project.state, action)
    _check_preconditions(project, action, reason, now)
    from_state, project.state = project.state, target.value
    if action == ProjectAction.PUBLISH:
        project.published_at = now
    session.flush()
    record_change(session, entity_type=ENTITY, entity_id=project.id, action=action.value,
                  actor_id=actor.id if actor else None, from_state=from_state, to_state=target.value,
                  reason=(reason or "").strip() or None)
    return True


def _check_preconditions(project: Project, action: ProjectAction, reason: str | None, now: datetime) -> None:
    errors: dict[str, str] = {}
    if action == ProjectAction.SUBMIT:
        errors = missing_for_submission(project)
    elif action in REASON_REQUIRED and not (reason or "").strip():
        errors = {"reason": "required"}
    elif action == ProjectAction.PUBLISH and (project.deadline is None or project.deadline <= now):
        errors = {"deadline": "passed"}
    if len((reason or "").strip()) > REASON_MAX_LENGTH:
        errors["reason"] = "too_long"
    if errors:
        raise ProjectInvalid(errors)


def publish_due(session: Session, now: datetime) -> list[Project]:
    """Publish every approved project whose contest's funding window has started; return them.

    Projects whose deadline has already passed stay approved: they need an admin's decision.
    Rows are claimed with SKIP LOCKED, so two runs at once never publish a project twice."""
    stmt = (select(Project).join(Contest, Contest.id == Project.contest_id)
            .where(Project.state == ProjectState.APPROVED.value, Contest.funding_start <= now, Project.deadline > now)
            .order_by(Project.id).with_for_update(of=Project, skip_locked=True))
    due = list(session.scalars(stmt))
    return [p for p in due if apply_action(session, p, ProjectAction.PUBLISH, actor=None, now=now)]


def available_actions(project: Project, user: User) -> tuple[ProjectAction, ...]:
    """Return the actions `user` may apply to `project` now: the initiator's own, or an admin's."""
    mine: set[ProjectAction] = set()
    if project.initiator_id == user.id:
        mine |= INITIATOR_ACTIONS
    if user.has_role(Role.ADMIN):
        mine |= ADMIN_ACTIONS
    return tuple(action for action in allowed_actions(project.state) if action in mine)


def project_history(session: Session, project: Project) -> list[HistoryRow]:
    """Return the project's audit rows with the actors' names, oldest first."""
    stmt = (select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.entity_type == ENTITY, AuditEntry.entity_id == project.id).order_by(AuditEntry.id))
    return [HistoryRow(e.created_at, e.action, e.from_state, e.to_state, e.reason, name)
            for e, name in session.execute(stmt)]


def latest_reasons(session: Session, projects: Iterable[Project]) -> dict[int, str]:
    """Return, per project sent back for changes or rejected, the reason the admins gave last."""
    waiting = {p.id: p.state for p in projects
               if p.state in (ProjectState.CHANGES_REQUESTED.value, ProjectState.REJECTED.value)}
    if not waiting:
        return {}
    stmt = (select(AuditEntry).where(AuditEntry.entity_type == ENTITY, AuditEntry.entity_id.in_(waiting),
                                     AuditEntry.reason.is_not(None)).order_by(AuditEntry.id))
    return {e.entity_id: e.reason for e in session.scalars(stmt) if e.to_state == waiting[e.entity_id] and e.reason}


def review_queue(session: Session, *, state: str = ProjectState.SUBMITTED.value, district_id: int | None = None,
                 category: str = "") -> list[Project]:
    """Return the projects an admin filters for ("" state: every state), the longest waiting first."""
    stmt = select(Project).options(joinedload(Project.district), joinedload(Project.initiator))
    if state:
        stmt = stmt.where(Project.state == ProjectState(state).value)
    if district_id:
        stmt = stmt.where(Project.district_id == district_id)
    if category:
        stmt = stmt.where(Project.category == category)
    return list(session.scalars(stmt.order_by(Project.updated_at, Project.id)))
