"""Pitches of initiators: create and edit drafts with field-level validation, team, cover image, updates.

Errors carry stable codes per field (ProjectInvalid.errors); the web layer turns them into words.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from crowdfund.domain.categories import CATEGORIES
from crowdfund.domain.districts import slugify
from crowdfund.domain.projects import EDITABLE_STATES, ProjectState, deadline_end_of_day, deadline_in_window
from crowdfund.images import ImageRejected, ProcessedImage, process_cover_image
from crowdfund.models.contests import Contest, District
from crowdfund.models.projects import Project, ProjectUpdate, TeamMember
from crowdfund.models.users import User

BERLIN = ZoneInfo("Europe/Berlin")
TITLE_MAX_LENGTH = 120
PITCH_MAX_LENGTH = 300
TEXT_MAX_LENGTH = 20_000
NAME_MAX_LENGTH = 160
UPDATE_TITLE_MAX_LENGTH = 160
SLUG_MAX_LENGTH = 80
MIN_THRESHOLD_CENTS = 100
# Ten million euros: far above any contest project, and sums stay inside a 32-bit integer column.
MAX_AMOUNT_CENTS = 1_000_000_000
UPDATE_STATES: frozenset[ProjectState] = frozenset(
    {ProjectState.APPROVED, ProjectState.LIVE, ProjectState.ENDED, ProjectState.FUNDED, ProjectState.NOT_FUNDED}
)


class ProjectInvalid(ValueError):
    """Input that breaks a rule; `errors` maps each field to a stable code such as "required"."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in errors.items()))
        self.errors = errors


class NotEditable(Exception):
    """A change that the project's state no longer allows (e.g. editing the pitch after approval)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"A project in state '{state}' cannot be changed this way.")
        self.state = ProjectState(state)


@dataclass(frozen=True)
class TeamMemberData:
    name: str
    role: str = ""


@dataclass(frozen=True)
class ProjectData:
    title: str
    pitch: str
    district_id: int
    category: str
    threshold_cents: int
    description: str = ""
    goal_cents: int | None = None
    deadline_day: date | None = None
    recipient_name: str = ""
    recipient_address: str = ""
    recipient_tax_privileged: bool = False
    team: tuple[TeamMemberData, ...] = ()
    cover: bytes | None = None  # the uploaded file, unchecked; None keeps the current cover


def deadline_for(day: date) -> datetime:
    """Return the deadline of a campaign ending on `day`: the end of that day in Europe/Berlin, as UTC."""
    return deadline_end_of_day(day, BERLIN)


def create_project(
    session: Session, storage_dir: Path, *, initiator: User, contest: Contest, data: ProjectData
) -> Project:
    """Create a draft pitch in `contest`; every invalid field is reported at once, nothing is saved then."""
    district, cover = _validate(session, data, contest)
    project = Project(contest=contest, initiator=initiator, state=ProjectState.DRAFT.value,
                      slug=unique_slug(session, data.title))
    _apply(project, data, district, cover, storage_dir)
    session.add(project)
    session.flush()
    return project


def update_project(session: Session, storage_dir: Path, project: Project, data: ProjectData) -> Project:
    """Save an edited pitch; only drafts and pitches sent back for changes can be edited."""
    require_editable(project)
    district, cover = _validate(session, data, project.contest)
    if data.title.strip() != project.title:
        # The slug follows the title as long as the pitch has never been public.
        project.slug = unique_slug(session, data.title, exclude_id=project.id)
    _apply(project, data, district, cover, storage_dir)
    session.flush()
    return project


def require_editable(project: Project) -> None:
    """Raise NotEditable unless the pitch is a draft or was sent back for changes."""
    if ProjectState(project.state) not in EDITABLE_STATES:
        raise NotEditable(project.state)


def unique_slug(session: Session, title: str, *, exclude_id: int | None = None) -> str:
    """Return a slug from `title` that no other project uses, adding -2, -3, ... on a collision."""
    base = slugify(title, SLUG_MAX_LENGTH)
    stmt = select(Project.slug).where(or_(Project.slug == base, Project.slug.startswith(base + "-", autoescape=True)))
    if exclude_id is not None:
        stmt = stmt.where(Project.id != exclude_id)
    taken = set(session.scalars(stmt))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def missing_for_submission(project: Project) -> dict[str, str]:
    """Return the fields a pitch still needs before review: description, deadline inside the window, recipient."""
    errors = {name: "required" for name in ("description", "recipient_name", "recipient_address")
              if not getattr(project, name).strip()}
    if project.deadline is None:
        errors["deadline"] = "required"
    elif not deadline_in_window(project.deadline, project.contest.funding_start, project.contest.funding_end):
        errors["deadline"] = "outside_window"
    return errors


def list_my_projects(session: Session, user: User) -> list[Project]:
    """Return the user's own projects, the most recently changed first."""
    stmt = (select(Project).where(Project.initiator_id == user.id).options(joinedload(Project.contest))
            .order_by(Project.updated_at.desc(), Project.id.desc()))
    return list(session.scalars(stmt))


def project_by_slug(session: Session, slug: str) -> Project | None:
    """Return the project with this slug, whatever its state."""
    return session.scalars(select(Project).where(Project.slug == slug)).first()


def district_choices(session: Session) -> list[tuple[int, str]]:
    """Return (id, name) of every district, by name, for a select field."""
    return [(row.id, row.name) for row in session.execute(select(District.id, District.name).order_by(District.name))]


def post_update(session: Session, project: Project, *, author: User, title: str, body: str,
                now: datetime) -> ProjectUpdate:
    """Publish a dated news post (Markdown body); only from approval on, and never empty."""
    if ProjectState(project.state) not in UPDATE_STATES:
        raise NotEditable(project.state)
    texts = {"title": (title, UPDATE_TITLE_MAX_LENGTH), "body": (body, TEXT_MAX_LENGTH)}
    errors = _text_errors(texts, required=("title", "body"))
    if errors:
        raise ProjectInvalid(errors)
    update = ProjectUpdate(project=project, author_id=author.id, title=title.strip(), body=body.strip(),
                           created_at=now)
    session.add(update)
    session.flush()
    return update


# Validation


def _validate(session: Session, data: ProjectData, contest: Contest) -> tuple[District, ProcessedImage | None]:
    district = session.get(District, data.district_id) if data.district_id else None
    errors = {
        **_text_errors(_texts(data), required=("title", "pitch")),
        **_choice_errors(data, district),
        **_amount_errors(data.threshold_cents, data.goal_cents),
        **_deadline_errors(data.deadline_day, contest),
        **_team_errors(data.team),
    }
    cover = None
    if data.cover is not None:
        try:
            cover = process_cover_image(data.cover)
        except ImageRejected as exc:
            errors["cover"] = exc.code.value
    if errors or district is None:
        raise ProjectInvalid(errors)
    return district, cover


def _texts(data: ProjectData) -> dict[str, tuple[str, int]]:
    return {
        "title": (data.title, TITLE_MAX_LENGTH), "pitch": (data.pitch, PITCH_MAX_LENGTH),
        "description": (data.description, TEXT_MAX_LENGTH), "recipient_name": (data.recipient_name, NAME_MAX_LENGTH),
        "recipient_address": (data.recipient_address, 1000),
    }


def _text_errors(texts: dict[str, tuple[str, int]], *, required: Iterable[str]) -> dict[str, str]:
    errors = {name: "too_long" for name, (text, limit) in texts.items() if len(text.strip()) > limit}
    errors.update({name: "required" for name in required if not texts[name][0].strip()})
    return errors


def _choice_errors(data: ProjectData, district: District | None) -> dict[str, str]:
    errors = {}
    if district is None:
        errors["district_id"] = "unknown"
    if data.category not in CATEGORIES:
        errors["category"] = "unknown"
    return errors


def _amount_errors(threshold: int, goal: int | None) -> dict[str, str]:
    errors = {}
    if threshold < MIN_THRESHOLD_CENTS:
        errors["threshold_cents"] = "threshold_too_low"
    elif threshold > MAX_AMOUNT_CENTS:
        errors["threshold_cents"] = "amount_too_high"
    if goal is not None and goal > MAX_AMOUNT_CENTS:
        errors["goal_cents"] = "amount_too_high"
    elif goal is not None and goal < threshold:
        errors["goal_cents"] = "goal_below_threshold"
    return errors


def _deadline_errors(day: date | None, contest: Contest) -> dict[str, str]:
    if day is None or deadline_in_window(deadline_for(day), contest.funding_start, contest.funding_end):
        return {}
    return {"deadline": "outside_window"}


def _team_errors(team: Iterable[TeamMemberData]) -> dict[str, str]:
    for member in team:
        if member.role.strip() and not member.name.strip():
            return {"team": "name_missing"}
        if len(member.name.strip()) > 120 or len(member.role.strip()) > 120:
            return {"team": "too_long"}
    return {}


# Saving


def _apply(project: Project, data: ProjectData, district: District, cover: ProcessedImage | None,
           storage_dir: Path) -> None:
    project.title, project.pitch = data.title.strip(), data.pitch.strip()
    project.description = data.description.strip()
    project.district, project.category = district, data.category
    project.threshold_cents, project.goal_cents = data.threshold_cents, data.goal_cents
    project.deadline = deadline_for(data.deadline_day) if data.deadline_day else None
    project.recipient_name, project.recipient_address = data.recipient_name.strip(), data.recipient_address.strip()
    project.recipient_tax_privileged = data.recipient_tax_privileged
    members = [m for m in data.team if m.name.strip()]
    project.team = [TeamMember(name=m.name.strip(), role=m.role.strip(), position=i) for i, m in enumerate(members)]
    if cover is not None:
        project.cover_image = store_cover(cover, storage_dir)


def covers_dir(storage_dir: Path) -> Path:
    """Return the folder the cover images are stored in."""
    return storage_dir / "covers"


def store_cover(image: ProcessedImage, storage_dir: Path) -> str:
    """Write a processed cover under `storage_dir`/covers, named by its content hash; return the file name.

    Same bytes, same name: a repeated upload costs nothing, and a file is never overwritten with other content."""
    extension = ".webp" if image.mime == "image/webp" else ".jpg"
    name = hashlib.sha256(image.data).hexdigest()[:32] + extension
    folder = covers_dir(storage_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        partial = folder / f".{name}.{os.getpid()}.part"
        partial.write_bytes(image.data)
        partial.replace(target)  # atomic: a reader never sees half a file
    return name
