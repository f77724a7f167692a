"""Contests: which one takes new pitches, and creating or editing one with its seven ordered windows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdfund.domain.districts import slugify
from crowdfund.models.contests import Contest

WINDOWS: tuple[str, ...] = (
    "submission_start", "submission_end", "review_end", "funding_start", "funding_end", "jury_end", "results_at",
)
# (earlier, later, strictly): each window field must not lie before the previous one; two must lie after it.
_ORDER: tuple[tuple[str, str, bool], ...] = (
    ("submission_start", "submission_end", True),
    ("submission_end", "review_end", False),
    ("review_end", "funding_start", False),
    ("funding_start", "funding_end", True),
    ("funding_end", "jury_end", False),
    ("jury_end", "results_at", False),
)
NAME_MAX_LENGTH = 160
SLUG_MAX_LENGTH = 80


class ContestInvalid(ValueError):
    """Contest input that breaks a rule; `errors` maps each field to a stable code.

    Order errors read "after:<field>" (must be later than that field) or "not_before:<field>"."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ContestData:
    name: str
    slug: str
    description: str
    submission_start: datetime
    submission_end: datetime
    review_end: datetime
    funding_start: datetime
    funding_end: datetime
    jury_end: datetime
    results_at: datetime


def current_contest(session: Session, now: datetime) -> Contest | None:
    """Return the contest whose submission window is open at `now`, else the newest contest."""
    open_now = (select(Contest).where(Contest.submission_start <= now, Contest.submission_end > now)
                .order_by(Contest.submission_start.desc(), Contest.id.desc()))
    newest = select(Contest).order_by(Contest.submission_start.desc(), Contest.id.desc())
    return session.scalars(open_now).first() or session.scalars(newest).first()


def list_contests(session: Session) -> list[Contest]:
    """Return every contest, the newest first."""
    return list(session.scalars(select(Contest).order_by(Contest.submission_start.desc(), Contest.id.desc())))


def create_contest(session: Session, data: ContestData) -> Contest:
    """Create a contest; the windows must follow one another in the contest's order."""
    contest = Contest()
    _save(session, contest, data)
    session.add(contest)
    session.flush()
    return contest


def update_contest(session: Session, contest: Contest, data: ContestData) -> Contest:
    """Save an edited contest under the same rules as a new one."""
    _save(session, contest, data)
    session.flush()
    return contest


def _save(session: Session, contest: Contest, data: ContestData) -> None:
    slug = data.slug.strip() or slugify(data.name, SLUG_MAX_LENGTH)
    errors = {**_text_errors(session, data, slug, contest.id), **window_errors(data)}
    if errors:
        raise ContestInvalid(errors)
    for field in fields(data):
        setattr(contest, field.name, getattr(data, field.name))
    contest.name, contest.slug, contest.description = data.name.strip(), slug, data.description.strip()


def _text_errors(session: Session, data: ContestData, slug: str, own_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "required"
    elif len(data.name.strip()) > NAME_MAX_LENGTH:
        errors["name"] = "too_long"
    if slugify(slug, SLUG_MAX_LENGTH) != slug:
        errors["slug"] = "invalid_slug"
    elif session.scalars(select(Contest.id).where(Contest.slug == slug, Contest.id != (own_id or 0))).first():
        errors["slug"] = "taken"
    return errors


def window_errors(data: ContestData) -> dict[str, str]:
    """Return an error for each window that comes too early: see `_ORDER` for the rule between each pair."""
    errors: dict[str, str] = {}
    for earlier, later, strictly in _ORDER:
        first, second = getattr(data, earlier), getattr(data, later)
        if second < first or (strictly and second == first):
            errors.setdefault(later, f"{'after' if strictly else 'not_before'}:{earlier}")
    return errors
