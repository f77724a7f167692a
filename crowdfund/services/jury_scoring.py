"""A juror's scoring: assigned entries with progress, scorecards (draft, submit, changes after submission
logged), what a juror may see of others' scores, and the discussion of an entry.

Visibility: a conflicted or unassigned juror does not see the entry at all; others' scores and the
discussion of an entry appear once the juror has submitted their own card for it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crowdfund.domain import jury as rules
from crowdfund.domain.jury import SCORING_PHASES, Phase
from crowdfund.models.contests import Contest
from crowdfund.models.jury import JuryComment, Scorecard
from crowdfund.models.projects import Project
from crowdfund.models.users import User
from crowdfund.services.audit import record_change
from crowdfund.services.jury import (
    JuryError,
    assigned_ids,
    conflicted_ids,
    entries,
    get_config,
    panel,
    require_phase,
)
from crowdfund.services.jury_settings import criteria, domain_criteria

DRAFT, SUBMITTED = "draft", "submitted"
COMMENT_MAX_LENGTH = 5000


class NotVisible(LookupError):
    """The entry is not the juror's to see: conflicted, not assigned, or not in this contest."""


class ScorecardInvalid(ValueError):
    """Scores that break the criteria's rules; `errors` maps criterion ids to "missing" or "out_of_range"."""

    def __init__(self, errors: Mapping[int | str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class EntryStatus:
    project: Project
    status: str  # "open" | "draft" | "submitted"


@dataclass(frozen=True)
class JurorOverview:
    items: list[EntryStatus]
    done: int
    total: int

    @property
    def all_done(self) -> bool:
        return self.total > 0 and self.done == self.total


def juror_overview(session: Session, contest: Contest, juror: User) -> JurorOverview:
    """Return the juror's assigned entries (never a conflicted one) with their card status and progress."""
    mine = assigned_ids(session, contest, juror) - conflicted_ids(session, contest, juror)
    cards = {c.project_id: c.status for c in _cards_of(session, contest, juror)}
    items = [EntryStatus(p, cards.get(p.id, "open")) for p in entries(session, contest) if p.id in mine]
    return JurorOverview(items, sum(1 for i in items if i.status == SUBMITTED), len(items))


def _cards_of(session: Session, contest: Contest, juror: User) -> list[Scorecard]:
    stmt = select(Scorecard).where(Scorecard.contest_id == contest.id, Scorecard.juror_id == juror.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class JurorProgress:
    juror: User
    assigned: int
    submitted: int
    conflicts: int


def panel_progress(session: Session, contest: Contest) -> list[JurorProgress]:
    """Return each juror's assigned entries, submitted cards and declared conflicts, for the organisers."""
    result = []
    for juror in panel(session, contest):
        overview = juror_overview(session, contest, juror)
        result.append(JurorProgress(juror, overview.total, overview.done, len(conflicted_ids(session, contest, juror))))
    return result


def entry_for_juror(session: Session, contest: Contest, juror: User, project_id: int) -> Project:
    """Return an entry the juror is assigned to and has no conflict with; NotVisible otherwise."""
    project = session.get(Project, project_id)
    if project is None or project.contest_id != contest.id:
        raise NotVisible(project_id)
    if project_id in conflicted_ids(session, contest, juror) or project_id not in assigned_ids(session, contest, juror):
        raise NotVisible(project_id)
    return project


def own_card(session: Session, juror: User, project: Project) -> Scorecard | None:
    """Return the juror's scorecard for the entry, if any."""
    stmt = select(Scorecard).where(Scorecard.juror_id == juror.id, Scorecard.project_id == project.id)
    return session.scalars(stmt).first()


def card_scores(card: Scorecard | None) -> dict[int, int]:
    """Return a card's scores keyed by criterion id."""
    return {int(k): int(v) for k, v in (card.scores if card else {}).items() if v is not None}


def save_scorecard(session: Session, contest: Contest, juror: User, project: Project, *,
                   scores: Mapping[int, int | None], comment: str, submit: bool, now: datetime) -> Scorecard:
    """Save the juror's card as a draft, or submit it (complete and within the scales).

    A submitted card stays complete; changing it afterwards appends an audit row with the old and new
    scores and comment."""
    require_phase(get_config(session, contest), SCORING_PHASES)
    entry_for_juror(session, contest, juror, project.id)
    card = own_card(session, juror, project) or Scorecard(contest_id=contest.id, juror_id=juror.id,
                                                          project_id=project.id, scores={}, status=DRAFT)
    was_submitted = card.status == SUBMITTED
    crit = domain_criteria(criteria(session, contest))
    _check(crit, scores, comment, complete=submit or was_submitted)
    old = _snapshot(card)
    card.scores = {str(c.key): scores[c.key] for c in crit if scores.get(c.key) is not None}
    card.comment = comment.strip()
    if submit and not was_submitted:
        card.status, card.submitted_at = SUBMITTED, now
    session.add(card)
    session.flush()
    if was_submitted and _snapshot(card) != old:
        _log_change(session, card, old, crit, juror)
    elif card.status == SUBMITTED and not was_submitted:
        record_change(session, entity_type="scorecard", entity_id=card.id, action="submitted", actor_id=juror.id,
                      from_state=DRAFT, to_state=SUBMITTED)
    return card


def _check(crit: list[rules.Criterion], scores: Mapping[int, int | None], comment: str, *, complete: bool) -> None:
    errors: dict[int | str, str] = dict(rules.score_errors(crit, scores, complete=complete))
    if len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = "too_long"
    if errors:
        raise ScorecardInvalid(errors)


def _snapshot(card: Scorecard) -> dict[str, object]:
    return {"scores": dict(card.scores or {}), "comment": card.comment or ""}


def _log_change(session: Session, card: Scorecard, old: dict[str, object], crit: list[rules.Criterion],
                juror: User) -> None:
    def total(scores: object) -> str:
        values = {int(k): int(v) for k, v in dict(scores).items()}  # type: ignore[call-overload]
        return f"total {float(rules.weighted_total(crit, values)):.2f}"

    detail = json.dumps({"old": old, "new": _snapshot(card)}, ensure_ascii=False, sort_keys=True)
    record_change(session, entity_type="scorecard", entity_id=card.id, action="changed_after_submission",
                  actor_id=juror.id, from_state=total(old["scores"]), to_state=total(card.scores), reason=detail)


def others_cards(session: Session, contest: Contest, juror: User, project: Project) -> list[Scorecard] | None:
    """Return the other jurors' submitted cards for the entry, or None while the juror's own is not submitted."""
    mine = own_card(session, juror, project)
    if mine is None or mine.status != SUBMITTED:
        return None
    stmt = (select(Scorecard).options(selectinload(Scorecard.juror))
            .where(Scorecard.project_id == project.id, Scorecard.status == SUBMITTED, Scorecard.juror_id != juror.id)
            .order_by(Scorecard.submitted_at, Scorecard.id))
    return list(session.scalars(stmt))


def discussion(session: Session, project: Project) -> list[JuryComment]:
    """Return the jury's discussion of the entry, oldest first."""
    stmt = (select(JuryComment).options(selectinload(JuryComment.author))
            .where(JuryComment.project_id == project.id).order_by(JuryComment.created_at, JuryComment.id))
    return list(session.scalars(stmt))


def add_comment(session: Session, contest: Contest, juror: User, project: Project, body: str, *,
                now: datetime) -> JuryComment:
    """Add to an entry's discussion: only jurors who submitted their own card for it, during scoring or discussion."""
    require_phase(get_config(session, contest), SCORING_PHASES | {Phase.DECISION})
    entry_for_juror(session, contest, juror, project.id)
    if others_cards(session, contest, juror, project) is None:
        raise JuryError("submit_first")
    text = body.strip()
    if not text or len(text) > COMMENT_MAX_LENGTH:
        raise JuryError("invalid", {"body": "required" if not text else "too_long"})
    comment = JuryComment(contest_id=contest.id, project_id=project.id, author_id=juror.id, body=text, created_at=now)
    session.add(comment)
    session.flush()
    return comment
