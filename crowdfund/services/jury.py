"""The jury's core: its configuration and entries, conflicts of interest, assignment and phase changes.

Every phase change goes through the domain's transition table and appends an audit row (entity "jury",
id = the contest's); so do conflict and assignment changes (settings, panel, criteria: jury_settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crowdfund.domain import jury as rules
from crowdfund.domain.jury import CONFLICT_PHASES, SETUP_PHASES, ConflictKind, Phase, PhaseAction
from crowdfund.domain.jury_assignment import assign
from crowdfund.domain.projects import PUBLIC_STATES
from crowdfund.domain.roles import Role
from crowdfund.models.audit import AuditEntry
from crowdfund.models.contests import Contest
from crowdfund.models.jury import (
    JuryAssignment,
    JuryConfig,
    JuryConflict,
    JuryCriterion,
    JuryMember,
    Scorecard,
)
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services.audit import record_change

ENTITY = "jury"


class JuryError(ValueError):
    """A jury action the rules do not allow now; `code` is stable, `errors` names fields where useful."""

    def __init__(self, code: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.code, self.errors = code, errors or {}


def contest_by_slug(session: Session, slug: str) -> Contest | None:
    """Return the contest with this slug, or None."""
    return session.scalars(select(Contest).where(Contest.slug == slug)).first()


def find_config(session: Session, contest: Contest) -> JuryConfig | None:
    """Return the contest's jury configuration if it has one."""
    return session.scalars(select(JuryConfig).where(JuryConfig.contest_id == contest.id)).first()


def get_config(session: Session, contest: Contest) -> JuryConfig:
    """Return the contest's jury configuration, creating the default one (phase: conflicts) on first use."""
    config = find_config(session, contest)
    if config is None:
        config = JuryConfig(contest_id=contest.id, phase=Phase.CONFLICTS.value, prize_fixed_cents=[], tie_vote=[])
        session.add(config)
        session.flush()
    return config


def entries(session: Session, contest: Contest) -> list[Project]:
    """Return the contest's entries: its projects that ran (or run) a public campaign, by title."""
    stmt = (select(Project).where(Project.contest_id == contest.id, Project.state.in_(sorted(PUBLIC_STATES)))
            .order_by(Project.title, Project.id))
    return list(session.scalars(stmt))


def panel(session: Session, contest: Contest) -> list[User]:
    """Return the contest's jurors, by name."""
    stmt = (select(User).join(JuryMember, JuryMember.user_id == User.id)
            .where(JuryMember.contest_id == contest.id).order_by(User.name, User.id))
    return list(session.scalars(stmt))


def is_juror(session: Session, contest: Contest, user: User) -> bool:
    """Tell whether `user` sits on the contest's jury (and still holds the juror role)."""
    member = session.scalars(select(JuryMember.id).where(JuryMember.contest_id == contest.id,
                                                         JuryMember.user_id == user.id)).first()
    return member is not None and user.has_role(Role.JUROR)


def juror_contests(session: Session, user: User) -> list[Contest]:
    """Return the contests whose jury `user` sits on, the newest first."""
    stmt = (select(Contest).join(JuryMember, JuryMember.contest_id == Contest.id)
            .where(JuryMember.user_id == user.id).order_by(Contest.submission_start.desc(), Contest.id.desc()))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    action: str
    before: str | None
    after: str | None
    reason: str | None
    actor_name: str | None  # None: the system


def history(session: Session, contest: Contest) -> list[HistoryRow]:
    """Return the jury's audit trail (phases, settings, panel, criteria, assignment, decision), oldest first."""
    stmt = (select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.entity_type == ENTITY, AuditEntry.entity_id == contest.id).order_by(AuditEntry.id))
    return [HistoryRow(e.created_at, e.action, e.from_state, e.to_state, e.reason, name)
            for e, name in session.execute(stmt)]


def audit(session: Session, contest: Contest, action: str, actor: User | None, *, before: str | None = None,
           after: str | None = None, reason: str | None = None) -> None:
    record_change(session, entity_type=ENTITY, entity_id=contest.id, action=action,
                  actor_id=actor.id if actor else None, from_state=before, to_state=after, reason=reason)


def require_phase(config: JuryConfig, phases: frozenset[Phase]) -> None:
    if Phase(config.phase) not in phases:
        raise JuryError("wrong_phase")


# --- conflicts and assignment ------------------------------------------------------------------------------


def conflicts(session: Session, contest: Contest, juror: User | None = None) -> list[JuryConflict]:
    """Return the contest's conflicts (of one juror, if given)."""
    stmt = select(JuryConflict).where(JuryConflict.contest_id == contest.id)
    if juror is not None:
        stmt = stmt.where(JuryConflict.juror_id == juror.id)
    return list(session.scalars(stmt.order_by(JuryConflict.id)))


def conflicted_ids(session: Session, contest: Contest, juror: User) -> set[int]:
    """Return the ids of the entries `juror` has a conflict with."""
    return {c.project_id for c in conflicts(session, contest, juror)}


def declare_conflict(session: Session, contest: Contest, juror: User, project: Project, kind: str, note: str, *,
                     actor: User) -> JuryConflict:
    """Record a conflict of `juror` with `project` (by the juror or an admin) before or during scoring.

    The juror's assignment to the entry and any scorecard for it are removed: it never counts. Before
    scoring, an existing assignment is computed again so the loads stay balanced."""
    config = get_config(session, contest)
    require_phase(config, CONFLICT_PHASES)
    if project.contest_id != contest.id or juror not in panel(session, contest):
        raise JuryError("not_found")
    existing = session.scalars(select(JuryConflict).where(JuryConflict.juror_id == juror.id,
                                                          JuryConflict.project_id == project.id)).first()
    if existing is not None:
        return existing
    conflict = JuryConflict(contest_id=contest.id, juror_id=juror.id, project_id=project.id,
                            kind=ConflictKind(kind).value, note=note.strip(), declared_by_id=actor.id)
    session.add(conflict)
    for model in (JuryAssignment, Scorecard):
        session.execute(delete(model).where(model.juror_id == juror.id, model.project_id == project.id))
    session.flush()
    record_change(session, entity_type="jury_conflict", entity_id=conflict.id, action="declared",
                  actor_id=actor.id, to_state=conflict.kind, reason=conflict.note or None)
    _reassign_if_assigned(session, contest, config, actor)
    return conflict


def remove_conflict(session: Session, contest: Contest, conflict: JuryConflict, *, actor: User) -> None:
    """Withdraw a conflict before scoring starts (an admin's correction)."""
    require_phase(get_config(session, contest), SETUP_PHASES)
    session.delete(conflict)
    session.flush()
    record_change(session, entity_type="jury_conflict", entity_id=conflict.id, action="withdrawn",
                  actor_id=actor.id, from_state=conflict.kind)
    _reassign_if_assigned(session, contest, get_config(session, contest), actor)


def _reassign_if_assigned(session: Session, contest: Contest, config: JuryConfig, actor: User) -> None:
    has_any = session.scalars(select(JuryAssignment.id).where(JuryAssignment.contest_id == contest.id)).first()
    if Phase(config.phase) in SETUP_PHASES and has_any is not None:
        assign_entries(session, contest, actor=actor)


def assigned_ids(session: Session, contest: Contest, juror: User) -> set[int]:
    """Return the ids of the entries assigned to `juror`."""
    stmt = select(JuryAssignment.project_id).where(JuryAssignment.contest_id == contest.id,
                                                   JuryAssignment.juror_id == juror.id)
    return set(session.scalars(stmt))


def assign_entries(session: Session, contest: Contest, *, actor: User | None) -> tuple[int, ...]:
    """(Re)compute who scores what: the whole panel or k per entry, never a conflicted pair.

    Returns the entries that have fewer eligible jurors than asked for."""
    config = get_config(session, contest)
    require_phase(config, SETUP_PHASES)
    blocked = {(c.juror_id, c.project_id) for c in conflicts(session, contest)}
    result = assign([p.id for p in entries(session, contest)], [u.id for u in panel(session, contest)], blocked,
                    config.jurors_per_entry)
    session.execute(delete(JuryAssignment).where(JuryAssignment.contest_id == contest.id))
    session.add_all(JuryAssignment(contest_id=contest.id, juror_id=j, project_id=e) for j, e in sorted(result.pairs))
    session.flush()
    audit(session, contest, "assigned", actor, after=f"{len(result.pairs)} pairs")
    return result.short_entries


def change_phase(session: Session, contest: Contest, action: PhaseAction | str, *, actor: User,
                 now: datetime) -> bool:
    """Move the jury by `action` through the transition table; False for a repeat (nothing changes).

    Scoring needs criteria and a panel (the assignment is computed if there is none); publishing needs a
    recorded decision; reopening scoring drops the decision."""
    config = get_config(session, contest)
    session.refresh(config, with_for_update=True)
    action = PhaseAction(action)
    if rules.is_repeat(config.phase, action):
        return False
    target = rules.next_phase(config.phase, action)
    _check_phase_preconditions(session, contest, config, action)
    before, config.phase = config.phase, target.value
    if action == PhaseAction.PUBLISH:
        config.published_at = now
    if action == PhaseAction.REOPEN_SCORING:  # scores may change: a recorded decision would be stale
        config.decision, config.decided_at = None, None
    session.flush()
    audit(session, contest, action.value, actor, before=before, after=target.value)
    return True


def _check_phase_preconditions(session: Session, contest: Contest, config: JuryConfig, action: PhaseAction) -> None:
    if action == PhaseAction.OPEN_SCORING:
        if session.scalars(select(JuryCriterion.id).where(JuryCriterion.contest_id == contest.id)).first() is None:
            raise JuryError("no_criteria")
        if not panel(session, contest):
            raise JuryError("no_panel")
        has_any = session.scalars(select(JuryAssignment.id).where(JuryAssignment.contest_id == contest.id)).first()
        if has_any is None:
            assign_entries(session, contest, actor=None)
    if action == PhaseAction.PUBLISH and config.decision is None:
        raise JuryError("no_decision")
