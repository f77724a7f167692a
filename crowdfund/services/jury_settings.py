"""The jury's settings (final-ranking rule, prizes, crowd minimum, assignment mode), panel and criteria.

Panel and criteria change only before scoring starts, settings until publication; each change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crowdfund.domain import jury as rules
from crowdfund.domain.jury import SETUP_PHASES, Phase
from crowdfund.domain.jury_awards import PrizeMode, RankingRule, fixed_amounts_error, format_share, parse_share
from crowdfund.domain.roles import Role
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryAssignment, JuryConfig, JuryConflict, JuryCriterion, JuryMember, Scorecard
from crowdfund.models.users import User
from crowdfund.services.jury import JuryError, audit, get_config, panel, require_phase

# --- settings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsData:
    ranking_rule: str
    jury_weight: str
    preselect_top_n: int
    prize_pot_cents: int
    prize_places: int
    prize_mode: str
    prize_fixed_cents: tuple[int, ...]
    crowd_min_pledge_cents: int
    jurors_per_entry: int | None
    disagreement_points: int


def settings_errors(data: SettingsData) -> dict[str, str]:
    """Return a stable error code per field that breaks a rule."""
    errors: dict[str, str] = {}
    if data.ranking_rule not in set(RankingRule):
        errors["ranking_rule"] = "unknown"
    try:
        parse_share(data.jury_weight)
    except ValueError:
        errors["jury_weight"] = "share_out_of_range"
    if data.prize_mode not in set(PrizeMode):
        errors["prize_mode"] = "unknown"
    elif data.prize_mode == PrizeMode.FIXED:
        problem = fixed_amounts_error(data.prize_pot_cents, data.prize_places, data.prize_fixed_cents)
        if problem:
            errors["prize_fixed"] = f"prizes_{problem}"
    if data.jurors_per_entry is not None and data.jurors_per_entry < 1:
        errors["jurors_per_entry"] = "at_least_one"
    return errors


def save_settings(session: Session, config: JuryConfig, data: SettingsData, *, actor: User) -> None:
    """Save the ranking rule, prizes, crowd minimum and assignment mode; published results stay as they are."""
    require_phase(config, frozenset(Phase) - {Phase.PUBLISHED})
    if errors := settings_errors(data):
        raise JuryError("invalid", errors)
    for name, value in vars(data).items():
        setattr(config, name, list(value) if isinstance(value, tuple) else value)
    config.jury_weight = format_share(parse_share(data.jury_weight))
    session.flush()
    audit(session, config.contest, "settings_changed", actor)


# --- panel and criteria ------------------------------------------------------------------------------------


def add_juror(session: Session, contest: Contest, user: User, *, actor: User) -> None:
    """Seat a user holding the juror role on the contest's panel (a repeat changes nothing)."""
    require_phase(get_config(session, contest), SETUP_PHASES)
    if not user.has_role(Role.JUROR):
        raise JuryError("not_a_juror")
    if user in panel(session, contest):
        return
    session.add(JuryMember(contest_id=contest.id, user_id=user.id))
    session.flush()
    audit(session, contest, "juror_added", actor, after=user.name[:40])


def remove_juror(session: Session, contest: Contest, user: User, *, actor: User) -> None:
    """Take a juror off the panel before scoring starts, with their assignments and conflicts."""
    require_phase(get_config(session, contest), SETUP_PHASES)
    session.execute(delete(JuryMember).where(JuryMember.contest_id == contest.id, JuryMember.user_id == user.id))
    for model in (JuryAssignment, JuryConflict, Scorecard):
        session.execute(delete(model).where(model.contest_id == contest.id, model.juror_id == user.id))
    session.flush()
    audit(session, contest, "juror_removed", actor, before=user.name[:40])


@dataclass(frozen=True)
class CriterionData:
    name: str
    description: str
    weight: str
    scale_min: int
    scale_max: int
    anchors: dict[str, str]


def criteria(session: Session, contest: Contest) -> list[JuryCriterion]:
    """Return the contest's criteria in their order."""
    stmt = select(JuryCriterion).where(JuryCriterion.contest_id == contest.id)
    return list(session.scalars(stmt.order_by(JuryCriterion.position, JuryCriterion.id)))


def domain_criteria(rows: list[JuryCriterion]) -> list[rules.Criterion]:
    """Return the criteria as the domain's value objects."""
    return [rules.Criterion(r.id, rules.parse_weight(r.weight), r.scale_min, r.scale_max, r.position) for r in rows]


def criterion_errors(data: CriterionData) -> dict[str, str]:
    """Return a stable error code per field that breaks a rule."""
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "required"
    try:
        rules.parse_weight(data.weight)
    except ValueError:
        errors["weight"] = "weight_positive"
    if data.scale_max <= data.scale_min:
        errors["scale_max"] = "scale_order"
    if any(not k.lstrip("-").isdigit() or not data.scale_min <= int(k) <= data.scale_max for k in data.anchors):
        errors["anchors"] = "anchor_outside_scale"
    return errors


def save_criterion(session: Session, contest: Contest, data: CriterionData, *, actor: User,
                   criterion: JuryCriterion | None = None) -> JuryCriterion:
    """Add a criterion (or change `criterion`) before scoring starts."""
    require_phase(get_config(session, contest), SETUP_PHASES)
    if errors := criterion_errors(data):
        raise JuryError("invalid", errors)
    if criterion is None:
        criterion = JuryCriterion(contest_id=contest.id, position=len(criteria(session, contest)))
        session.add(criterion)
    criterion.name, criterion.description = data.name.strip(), data.description.strip()
    criterion.weight = str(rules.parse_weight(data.weight))
    criterion.scale_min, criterion.scale_max, criterion.anchors = data.scale_min, data.scale_max, dict(data.anchors)
    session.flush()
    audit(session, contest, "criterion_saved", actor, after=criterion.name[:40])
    return criterion


def delete_criterion(session: Session, contest: Contest, criterion: JuryCriterion, *, actor: User) -> None:
    """Remove a criterion before scoring starts."""
    require_phase(get_config(session, contest), SETUP_PHASES)
    session.delete(criterion)
    session.flush()
    audit(session, contest, "criterion_deleted", actor, before=criterion.name[:40])


