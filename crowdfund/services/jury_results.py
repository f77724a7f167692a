"""The jury's results: crowd index (frozen at the deadline), aggregation, final ranking, prizes, the
recorded decision and the published results.

Only submitted cards of assigned, non-conflicted jurors count. Results are computed from the stored
cards and crowd snapshots each time; once published they cannot change: scoring is closed, the crowd
index is frozen and the decision is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.domain import jury as rules
from crowdfund.domain import jury_awards as awards
from crowdfund.domain.jury import Phase
from crowdfund.domain.jury_offsets import jury_scores
from crowdfund.domain.pledges import COUNTING
from crowdfund.models.contests import Contest
from crowdfund.models.jury import CrowdSnapshot, JuryAssignment, JuryConfig, JuryConflict, JuryCriterion, Scorecard
from crowdfund.models.pledges import Pledge
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services.jury import (
    JuryError,
    audit,
    contest_by_slug,
    entries,
    find_config,
    get_config,
    require_phase,
)
from crowdfund.services.jury_scoring import SUBMITTED, card_scores
from crowdfund.services.jury_settings import criteria, domain_criteria

REASON_MAX_LENGTH = 5000


@dataclass(frozen=True)
class CrowdFigures:
    backers: int
    amount_cents: int
    percent: int


def _deadline(contest: Contest, project: Project) -> datetime:
    return project.deadline or contest.funding_end


def live_crowd(session: Session, contest: Contest, projects: list[Project],
               minimum_cents: int) -> dict[int, CrowdFigures]:
    """Compute each entry's crowd index from its pledges now (pledges after its deadline never count)."""
    stmt = select(Pledge.project_id, Pledge.backer_id, Pledge.amount_cents, Pledge.status, Pledge.created_at).where(
        Pledge.project_id.in_([p.id for p in projects]))
    facts: dict[int, list[awards.PledgeFact]] = {p.id: [] for p in projects}
    for project_id, backer_id, amount, status, created_at in session.execute(stmt):
        facts[project_id].append(awards.PledgeFact(backer_id, amount, status in COUNTING, created_at))
    result = {}
    for p in projects:
        index = awards.crowd_index(facts[p.id], team_ids=team_user_ids(p), minimum_cents=minimum_cents,
                                   threshold_cents=p.threshold_cents, deadline=_deadline(contest, p))
        result[p.id] = CrowdFigures(index.backers, index.amount_cents, index.percent)
    return result


def team_user_ids(project: Project) -> set[int]:
    """Return the users whose pledges are the team's own: the initiator (team members have no accounts)."""
    return {project.initiator_id}


def crowd_figures(session: Session, contest: Contest, now: datetime) -> tuple[dict[int, CrowdFigures], bool]:
    """Return the crowd index per entry and whether it is frozen; freeze it first once funding has ended."""
    if now >= contest.funding_end:
        freeze_crowd(session, contest, now)
    snapshots = _snapshots(session, contest)
    if snapshots:
        return {s.project_id: CrowdFigures(s.backers, s.amount_cents, s.percent) for s in snapshots}, True
    minimum = get_config(session, contest).crowd_min_pledge_cents
    return live_crowd(session, contest, entries(session, contest), minimum), False


def _snapshots(session: Session, contest: Contest) -> list[CrowdSnapshot]:
    return list(session.scalars(select(CrowdSnapshot).where(CrowdSnapshot.contest_id == contest.id)))


def freeze_crowd(session: Session, contest: Contest, now: datetime) -> list[CrowdSnapshot]:
    """Store every entry's crowd index once funding has ended; later calls return the stored rows."""
    if now < contest.funding_end:
        raise JuryError("before_deadline")
    existing = _snapshots(session, contest)
    if existing:
        return existing
    minimum = get_config(session, contest).crowd_min_pledge_cents
    projects = entries(session, contest)
    figures = live_crowd(session, contest, projects, minimum)
    rows = [CrowdSnapshot(contest_id=contest.id, project_id=p.id, backers=figures[p.id].backers,
                          amount_cents=figures[p.id].amount_cents, threshold_cents=p.threshold_cents,
                          percent=figures[p.id].percent, minimum_cents=minimum, frozen_at=_deadline(contest, p))
            for p in projects]
    session.add_all(rows)
    session.flush()
    audit(session, contest, "crowd_frozen", None, after=f"{len(rows)} entries")
    return rows


def counted_cards(session: Session, contest: Contest) -> list[Scorecard]:
    """Return the submitted cards that count: the juror is assigned to the entry and not conflicted."""
    assigned = {(a.juror_id, a.project_id) for a in session.scalars(
        select(JuryAssignment).where(JuryAssignment.contest_id == contest.id))}
    blocked = {(c.juror_id, c.project_id) for c in session.scalars(
        select(JuryConflict).where(JuryConflict.contest_id == contest.id))}
    stmt = select(Scorecard).where(Scorecard.contest_id == contest.id, Scorecard.status == SUBMITTED)
    return [c for c in session.scalars(stmt.order_by(Scorecard.id))
            if (c.juror_id, c.project_id) in assigned - blocked]


@dataclass
class EntryResult:
    project: Project
    crowd: CrowdFigures
    stats: rules.EntryStats | None = None
    jury_score: Fraction | None = None
    jury_position: int | None = None
    decided_by: str | None = None
    final: awards.FinalEntry | None = None
    position: int | None = None  # in the decision if recorded, else in the computed final ranking
    prize_cents: int = 0
    disagreement: bool = False


@dataclass
class ContestResults:
    contest: Contest
    config: JuryConfig
    criteria: list[JuryCriterion]
    rows: list[EntryResult]  # ranked first (by position), unscored entries last
    method: str
    offsets: dict[int, Fraction]
    crowd_frozen: bool
    computed_order: list[int]
    undistributed_cents: int = 0
    unresolved_ties: list[list[int]] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.config.decision is not None


def compute_results(session: Session, contest: Contest, now: datetime) -> ContestResults:
    """Aggregate the counted cards, combine them with the crowd index, rank, and split the prizes."""
    config, rows = get_config(session, contest), criteria(session, contest)
    crit = domain_criteria(rows)
    cards = [rules.Card(c.project_id, c.juror_id, rules.weighted_total(crit, card_scores(c)), card_scores(c))
             for c in counted_cards(session, contest)]
    stats, scores = rules.entry_stats(crit, cards), jury_scores(cards)
    primary = rules.primary_criterion(crit)
    ranked = rules.rank_entries(stats, scores.scores, primary=primary.key if primary else None, vote=config.tie_vote)
    crowd, frozen = crowd_figures(session, contest, now)
    by_id = _entry_rows(entries(session, contest), crowd, stats, ranked, config.disagreement_points)
    jury_order = [r.entry for r in ranked]
    finals = _final_ranking(config, jury_order, scores.scores, {e: by_id[e].crowd.backers for e in jury_order})
    order = _apply_positions(config, by_id, finals)
    undistributed = _award_prizes(config, by_id, finals, order)
    rows_in_order = [by_id[e] for e in order] + [row for e, row in by_id.items() if e not in set(order)]
    return ContestResults(contest, config, rows, rows_in_order, scores.method, scores.offsets, frozen,
                          [f.entry for f in finals], undistributed, _ties(ranked))


def _entry_rows(projects: list[Project], crowd: dict[int, CrowdFigures], stats: dict[int, rules.EntryStats],
                ranked: list[rules.RankedEntry], disagreement_points: int) -> dict[int, EntryResult]:
    by_id = {p.id: EntryResult(p, crowd.get(p.id, CrowdFigures(0, 0, 0))) for p in projects}
    for r in ranked:
        row = by_id[r.entry]
        row.stats, row.jury_score, row.jury_position, row.decided_by = stats[r.entry], r.score, r.position, r.decided_by
        row.disagreement = row.stats.spread > disagreement_points
    return by_id


def _award_prizes(config: JuryConfig, by_id: dict[int, EntryResult], finals: list[awards.FinalEntry],
                  order: list[int]) -> int:
    """Split the pot along `order` (the decision's, else the computed one); return what stays undistributed."""
    final_of = {f.entry: f for f in finals}
    split = awards.split_prizes([final_of[e] for e in order], pot_cents=config.prize_pot_cents,
                                places=config.prize_places, mode=config.prize_mode,
                                fixed_cents=config.prize_fixed_cents)
    for entry, cents in split.amounts.items():
        by_id[entry].prize_cents = cents
    return split.undistributed_cents


def _final_ranking(config: JuryConfig, jury_order: list[int], jury: dict[int, Fraction],
                   crowd: dict[int, int]) -> list[awards.FinalEntry]:
    if config.ranking_rule == awards.RankingRule.PRESELECT:
        return awards.preselect_ranking(jury_order, jury, crowd, config.preselect_top_n)
    return awards.weighted_ranking(jury_order, jury, crowd, awards.parse_share(config.jury_weight))


def _apply_positions(config: JuryConfig, by_id: dict[int, EntryResult], finals: list[awards.FinalEntry]) -> list[int]:
    """Use the recorded decision's order where there is one (entries it does not know follow)."""
    for f in finals:
        by_id[f.entry].final = f
    computed = [f.entry for f in finals]
    decided = [e for e in (config.decision or []) if e in computed]
    order = decided + [e for e in computed if e not in decided]
    for i, entry in enumerate(order):
        by_id[entry].position = i + 1
    return order


def _ties(ranked: list[rules.RankedEntry]) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for r in ranked:
        groups.setdefault(r.position, []).append(r.entry)
    return [g for g in groups.values() if len(g) > 1]


def record_tie_vote(session: Session, contest: Contest, order: list[int], *, actor: User) -> None:
    """Record the order of a jury vote, the last tie-break (entries it leaves out come after)."""
    config = get_config(session, contest)
    require_phase(config, frozenset({Phase.DISCUSSION, Phase.DECISION}))
    config.tie_vote = list(order)
    session.flush()
    audit(session, contest, "tie_vote_recorded", actor, reason=",".join(map(str, order)))


def record_decision(session: Session, contest: Contest, order: list[int], reason: str, *, actor: User,
                    now: datetime) -> None:
    """Record the jury's final ranking; an order that differs from the computed one needs a reason.

    Needs the decision phase and a frozen crowd index (the results must not move after the decision)."""
    config = get_config(session, contest)
    require_phase(config, frozenset({Phase.DECISION}))
    results = compute_results(session, contest, now)
    if not results.crowd_frozen:
        raise JuryError("crowd_not_frozen")
    if sorted(order) != sorted(results.computed_order):
        raise JuryError("invalid", {"order": "not_a_ranking"})
    reason = reason.strip()
    if order != results.computed_order and not reason:
        raise JuryError("invalid", {"reason": "reason_required"})
    if len(reason) > REASON_MAX_LENGTH:
        raise JuryError("invalid", {"reason": "too_long"})
    config.decision, config.decision_reason, config.decided_at = list(order), reason, now
    session.flush()
    differs = "differs" if order != results.computed_order else "as computed"
    audit(session, contest, "decision_recorded", actor, after=differs,
                reason=f"{','.join(map(str, order))}\n{reason}".strip())


def published_results(session: Session, slug: str, now: datetime) -> ContestResults | None:
    """Return the results of a contest whose jury has published them; None before publication."""
    contest = contest_by_slug(session, slug)
    config = find_config(session, contest) if contest else None
    if contest is None or config is None or config.phase != Phase.PUBLISHED:
        return None
    return compute_results(session, contest, now)
