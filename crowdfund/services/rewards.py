"""Rewards of a pitch: added, edited and deleted while the pitch is editable; afterwards only the stock moves."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crowdfund.domain.projects import EDITABLE_STATES, ProjectState
from crowdfund.models.projects import Project
from crowdfund.models.rewards import Reward
from crowdfund.services.projects import MAX_AMOUNT_CENTS, NotEditable, ProjectInvalid, require_editable

MIN_AMOUNT_CENTS = 100
MAX_QUANTITY = 1_000_000
TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 2000
STOCK_STATES: frozenset[ProjectState] = EDITABLE_STATES | {ProjectState.APPROVED, ProjectState.LIVE}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class RewardData:
    title: str
    min_amount_cents: int
    description: str = ""
    quantity_total: int | None = None  # None: unlimited
    delivery_estimate: str = ""  # YYYY-MM or empty


def add_reward(session: Session, project: Project, data: RewardData) -> Reward:
    """Add a reward to an editable pitch."""
    require_editable(project)
    _check(data)
    reward = Reward(project=project)
    _apply(reward, data)
    session.add(reward)
    session.flush()
    return reward


def update_reward(session: Session, reward: Reward, data: RewardData) -> Reward:
    """Change a reward of an editable pitch (no pledge can have claimed it yet)."""
    require_editable(reward.project)
    _check(data)
    _apply(reward, data)
    session.flush()
    return reward


def delete_reward(session: Session, reward: Reward) -> None:
    """Delete a reward of an editable pitch."""
    require_editable(reward.project)
    reward.project.rewards.remove(reward)
    session.flush()


def change_reward_stock(session: Session, reward: Reward, quantity_total: int | None) -> Reward:
    """Set how many of a reward exist in all (None: unlimited); never fewer than pledges have claimed.

    The reward row is locked first, so that a pledge claiming it at the same moment is counted."""
    if ProjectState(reward.project.state) not in STOCK_STATES:
        raise NotEditable(reward.project.state)
    session.flush()
    session.refresh(reward, with_for_update=True)
    if quantity_total is not None and not reward.quantity_claimed <= quantity_total <= MAX_QUANTITY:
        code = "below_claimed" if quantity_total < reward.quantity_claimed else "quantity_too_high"
        raise ProjectInvalid({"quantity_total": code})
    reward.quantity_total = quantity_total
    session.flush()
    return reward


def _check(data: RewardData) -> None:
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = "required"
    elif len(data.title.strip()) > TITLE_MAX_LENGTH:
        errors["title"] = "too_long"
    if len(data.description.strip()) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = "too_long"
    if not MIN_AMOUNT_CENTS <= data.min_amount_cents <= MAX_AMOUNT_CENTS:
        errors["min_amount_cents"] = "amount_too_low" if data.min_amount_cents < MIN_AMOUNT_CENTS else "amount_too_high"
    if data.quantity_total is not None and not 1 <= data.quantity_total <= MAX_QUANTITY:
        errors["quantity_total"] = "quantity_too_low" if data.quantity_total < 1 else "quantity_too_high"
    if data.delivery_estimate and not _MONTH.match(data.delivery_estimate):
        errors["delivery_estimate"] = "invalid_month"
    if errors:
        raise ProjectInvalid(errors)


def _apply(reward: Reward, data: RewardData) -> None:
    reward.title, reward.description = data.title.strip(), data.description.strip()
    reward.min_amount_cents, reward.quantity_total = data.min_amount_cents, data.quantity_total
    reward.delivery_estimate = data.delivery_estimate
